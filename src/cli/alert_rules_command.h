#pragma once

#include <string>

namespace millrace {

/// `millrace alert-rules <project>`: prints the `alerts:` rules as a Prometheus alerting-rules
/// file (alerts/prometheus_rules.h). Exit 1 when the project does not load.
int run_alert_rules_command(const std::string& project_dir);

}  // namespace millrace
