#pragma once

#include <string>

#include "project/project.h"

namespace millrace {

/// The project's `alerts:` rules as a Prometheus alerting-rules file (one group,
/// `millrace_<project>`), for teams that evaluate them in Prometheus and route them with
/// Alertmanager instead of the webhook: a metric rule becomes `sum(<name>{<labels>}) > N`,
/// check_failed `count(millrace_check_passing{...} == 0) > 0` and job_failed
/// `increase(millrace_job_runs_total{state="failed",...}[1h]) > 0` (a failure fires for an
/// hour, Prometheus having no "until the next success"). Rule names are made valid alert
/// names (other characters become `_`); `for`, severity and description carry over.
std::string prometheus_rules_yaml(const Project& project);

}  // namespace millrace
