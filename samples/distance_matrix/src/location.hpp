// A named point on the Earth's surface, as read from one CSV row.
#pragma once

#include <string>

namespace distance_matrix {

struct Location {
  std::string name;
  double latitude_deg = 0.0;   // [-90, 90], north positive
  double longitude_deg = 0.0;  // [-180, 180], east positive
};

}  // namespace distance_matrix
