// CPU time this process has used, in all and by the threads of one name (getrusage and
// /proc/self/task), so that a benchmark can report CPU per request beside its rate: a
// rate alone does not say which thread is the bottleneck.
//
//   const CpuTime before = CpuTime::now("sluice-http");
//   run_the_case();
//   const CpuTime used = CpuTime::now("sluice-http") - before;
//   state.counters["cpu_us_per_req"] = used.process_s * 1e6 / requests;
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

struct CpuTime {
  double process_s = 0;  ///< user + system, every thread of the process
  double named_s = 0;    ///< user + system of the live threads called `name`

  static CpuTime now(std::string_view name) {
    CpuTime t;
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    t.process_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    t.named_s = named_threads_s(name);
    return t;
  }

  CpuTime operator-(const CpuTime& earlier) const {
    return {process_s - earlier.process_s, named_s - earlier.named_s};
  }

 private:
  static double seconds(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  }

  // Fields 14 and 15 of /proc/self/task/TID/stat (utime, stime in clock ticks); the name
  // in field 2 may hold spaces, so fields are counted from its closing parenthesis.
  static double named_threads_s(std::string_view name) {
    const double ticks_per_s = static_cast<double>(::sysconf(_SC_CLK_TCK));
    double total = 0;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      std::string comm;
      std::getline(std::ifstream(task.path() / "comm"), comm);
      if (comm != name) continue;
      std::string stat;
      std::getline(std::ifstream(task.path() / "stat"), stat);
      const auto close = stat.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream fields(stat.substr(close + 2));  // from field 3, the state
      std::string skip;
      for (int field = 3; field < 14; ++field) fields >> skip;
      double utime = 0;
      double stime = 0;
      fields >> utime >> stime;
      total += (utime + stime) / ticks_per_s;
    }
    return total;
  }
};
