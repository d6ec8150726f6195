// docs/grafana/sluice-dashboard.json against what render() writes: valid JSON, importable
// (a ${DS_PROMETHEUS} input, instance and vip variables), and every metric and label its
// queries name exists on the /metrics page of a rich director. A renamed metric or label
// fails here instead of leaving an empty panel in production.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "metrics/exposition.h"
#include "unit/metrics/metrics_inputs.h"

namespace sluice::metrics {
namespace {

const std::string kDashboard = std::string(SLUICE_SOURCE_DIR) + "/docs/grafana/sluice-dashboard.json";

nlohmann::json loadDashboard() {
  std::ifstream f(kDashboard);
  EXPECT_TRUE(f.good()) << kDashboard;
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not valid JSON: " << kDashboard;
  return j;
}

// Metric name -> its label names, from the page's samples (plus the labels Prometheus
// adds at scrape time).
std::map<std::string, std::set<std::string>> metricLabels(const std::string& page) {
  std::map<std::string, std::set<std::string>> out;
  std::regex type_line(R"(# TYPE (\S+) \S+)");
  std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)=")");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), type_line); it != std::sregex_iterator(); ++it)
    out[(*it)[1]] = {"instance", "job"};
  for (const auto& [series, value] : testing::samples(page)) {
    std::string name = series.substr(0, series.find('{'));
    std::string labels = series.size() > name.size() ? series.substr(name.size()) : "";
    for (auto it = std::sregex_iterator(labels.begin(), labels.end(), label); it != std::sregex_iterator(); ++it)
      out[name].insert((*it)[1]);
  }
  return out;
}

void collectExprs(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "expr" && it->is_string()) out.push_back(it->get<std::string>());
      else collectExprs(*it, out);
    }
  } else if (j.is_array()) {
    for (const auto& e : j) collectExprs(e, out);
  }
}

TEST(MetricsDashboard, ValidJsonForPython) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 not installed";
  EXPECT_EQ(std::system(("timeout -s KILL 30 python3 -m json.tool '" + kDashboard + "' >/dev/null").c_str()), 0);
}

TEST(MetricsDashboard, ImportableWithItsInputsAndVariables) {
  auto d = loadDashboard();
  ASSERT_TRUE(d.is_object());
  EXPECT_GE(d.value("schemaVersion", 0), 36);
  ASSERT_TRUE(d["__inputs"].is_array());
  EXPECT_EQ(d["__inputs"][0]["name"], "DS_PROMETHEUS");
  std::set<std::string> vars;
  for (const auto& v : d["templating"]["list"]) vars.insert(v["name"].get<std::string>());
  EXPECT_EQ(vars, (std::set<std::string>{"instance", "vip"}));
  std::set<int> ids;
  for (const auto& p : d["panels"]) {
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate panel id";
    if (p["type"] == "row") continue;
    EXPECT_EQ(p["datasource"]["uid"], "${DS_PROMETHEUS}") << p["title"];
    EXPECT_FALSE(p["targets"].empty()) << p["title"];
  }
}

TEST(MetricsDashboard, EveryQueriedMetricAndLabelIsRendered) {
  auto d = loadDashboard();
  std::vector<std::string> exprs;
  collectExprs(d, exprs);
  for (const auto& v : d["templating"]["list"]) exprs.push_back(v["definition"].get<std::string>());
  ASSERT_GE(exprs.size(), 10u);
  auto families = metricLabels(render(testing::richInputs()));
  // A metric name, and the matchers of its selector if it has one.
  std::regex selector(R"(\b((?:sluice|node)_[a-zA-Z0-9_]+)(\{([^}]*)\})?)");
  std::regex matcher(R"(([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=))");
  std::set<std::string> used;
  for (const auto& e : exprs) {
    size_t found = 0;
    for (auto it = std::sregex_iterator(e.begin(), e.end(), selector); it != std::sregex_iterator(); ++it) {
      ++found;
      std::string name = (*it)[1];
      used.insert(name);
      auto fam = families.find(name);
      if (fam == families.end()) {
        ADD_FAILURE() << "the dashboard queries " << name << ", which render() does not write: " << e;
        continue;
      }
      std::string matchers = (*it)[3];
      for (auto m = std::sregex_iterator(matchers.begin(), matchers.end(), matcher); m != std::sregex_iterator(); ++m)
        EXPECT_TRUE(fam->second.count((*m)[1])) << name << " has no label " << (*m)[1] << ": " << e;
    }
    EXPECT_GT(found, 0u) << "no sluice_/node_ metric in: " << e;
  }
  // The panels the dashboard promises.
  for (const char* m : {"sluice_service_connections_total", "sluice_service_incoming_bytes_total",
                        "sluice_real_server_active_connections", "sluice_real_server_weight", "sluice_real_server_up",
                        "sluice_packets_dropped_total", "sluice_health_check_failures_total",
                        "sluice_connection_table_entries", "sluice_connection_table_capacity"}) {
    EXPECT_TRUE(used.count(m)) << m;
  }
}

}  // namespace
}  // namespace sluice::metrics
