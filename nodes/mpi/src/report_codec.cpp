// Reports as bytes, field by field (strings and vectors make them more than a memcpy).
#include "sluice/mpi/report.hpp"

namespace sluice::mpi {

void Codec<LatencySummary>::write(ByteWriter& w, const LatencySummary& s) {
  w.put(s.count);
  w.put(s.mean_us);
  w.put(s.p50_us);
  w.put(s.p99_us);
  w.put(s.max_us);
  mpi::write(w, s.buckets);
  w.put(s.sum_ns);
}

LatencySummary Codec<LatencySummary>::read(ByteReader& r) {
  LatencySummary s;
  s.count = r.get<std::uint64_t>();
  s.mean_us = r.get<double>();
  s.p50_us = r.get<double>();
  s.p99_us = r.get<double>();
  s.max_us = r.get<double>();
  s.buckets = mpi::read<std::vector<std::uint64_t>>(r);
  s.sum_ns = r.get<std::uint64_t>();
  return s;
}

void Codec<StageReport>::write(ByteWriter& w, const StageReport& s) {
  mpi::write(w, s.name);
  mpi::write(w, s.kind);
  w.put(static_cast<std::uint64_t>(s.concurrency));
  w.put(static_cast<std::uint8_t>(s.ordered));
  w.put(static_cast<std::uint8_t>(s.async));
  for (std::uint64_t v : {s.in, s.out, s.filtered, s.failed, s.waiting, s.in_flight}) w.put(v);
  mpi::write(w, s.task);
  w.put(s.busy_fraction);
}

StageReport Codec<StageReport>::read(ByteReader& r) {
  StageReport s;
  s.name = mpi::read<std::string>(r);
  s.kind = mpi::read<std::string>(r);
  s.concurrency = static_cast<std::size_t>(r.get<std::uint64_t>());
  s.ordered = r.get<std::uint8_t>() != 0;
  s.async = r.get<std::uint8_t>() != 0;
  for (std::uint64_t* v : {&s.in, &s.out, &s.filtered, &s.failed, &s.waiting, &s.in_flight}) {
    *v = r.get<std::uint64_t>();
  }
  s.task = mpi::read<LatencySummary>(r);
  s.busy_fraction = r.get<double>();
  return s;
}

void Codec<Report>::write(ByteWriter& w, const Report& s) {
  for (std::uint64_t v : {s.produced, s.delivered, s.filtered, s.failed, s.cancelled}) w.put(v);
  w.put(s.elapsed_s);
  w.put(static_cast<std::uint64_t>(s.threads));
  w.put(static_cast<std::uint64_t>(s.max_in_flight));
  w.put(static_cast<std::uint8_t>(s.was_cancelled));
  mpi::write(w, s.cancel_reason);
  w.put(static_cast<std::uint64_t>(s.runs));
  mpi::write(w, s.end_to_end);
  mpi::write(w, s.stages);
}

Report Codec<Report>::read(ByteReader& r) {
  Report s;
  for (std::uint64_t* v : {&s.produced, &s.delivered, &s.filtered, &s.failed, &s.cancelled}) {
    *v = r.get<std::uint64_t>();
  }
  s.elapsed_s = r.get<double>();
  s.threads = static_cast<std::size_t>(r.get<std::uint64_t>());
  s.max_in_flight = static_cast<std::size_t>(r.get<std::uint64_t>());
  s.was_cancelled = r.get<std::uint8_t>() != 0;
  s.cancel_reason = mpi::read<std::string>(r);
  s.runs = static_cast<std::size_t>(r.get<std::uint64_t>());
  s.end_to_end = mpi::read<LatencySummary>(r);
  s.stages = mpi::read<std::vector<StageReport>>(r);
  return s;
}

}  // namespace sluice::mpi
