#include "report_json.hpp"

#include <sluice/options.hpp>

namespace sluice {

void to_json(nlohmann::json& j, const LatencySummary& l) {
  j = {{"count", l.count},
       {"mean_us", l.mean_us},
       {"p50_us", l.p50_us},
       {"p99_us", l.p99_us},
       {"max_us", l.max_us}};
}

void to_json(nlohmann::json& j, const StageReport& s) {
  j = {{"name", s.name},
       {"kind", s.kind},
       // sluice::unlimited would read as a number that means nothing to a reader.
       {"concurrency", s.concurrency == sluice::unlimited ? nlohmann::json("unlimited")
                                                          : nlohmann::json(s.concurrency)},
       {"ordered", s.ordered},
       {"async", s.async},
       {"in", s.in},
       {"out", s.out},
       {"filtered", s.filtered},
       {"failed", s.failed},
       {"task", s.task},
       {"busy_fraction", s.busy_fraction}};
}

void to_json(nlohmann::json& j, const Report& r) {
  j = {{"produced", r.produced},
       {"delivered", r.delivered},
       {"filtered", r.filtered},
       {"failed", r.failed},
       {"cancelled", r.cancelled},
       {"elapsed_s", r.elapsed_s},
       {"throughput", r.throughput()},
       {"threads", r.threads},
       {"max_in_flight", r.max_in_flight},
       {"was_cancelled", r.was_cancelled},
       {"cancel_reason", r.cancel_reason},
       {"end_to_end", r.end_to_end},
       {"stages", r.stages}};
}

}  // namespace sluice
