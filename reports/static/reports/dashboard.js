// Charts of the reports dashboard (vendored ECharts; the tables beside them carry the same figures).
(function () {
  const node = document.getElementById("dashboard-data");
  if (!node || !window.echarts) return;
  const data = JSON.parse(node.textContent);
  const charts = [];
  // Rule and region names run long (应保未保：重度残疾人…): wrapped onto a second line, never cut off.
  const NAMES = { width: 140, overflow: "break", lineHeight: 14 };
  function chart(id, option) {
    const el = document.getElementById(id);
    if (!el) return;
    const c = echarts.init(el);
    c.setOption(option);
    charts.push(c);
  }
  const series = data.trend.map(s => ({ name: s.label, type: "line", data: s.values, connectNulls: false,
                                        yAxisIndex: s.key === "persons_active" ? 1 : 0 }));
  chart("chart-trend", {
    tooltip: { trigger: "axis" }, legend: { top: 0 },
    grid: { left: 50, right: 50, top: 35, bottom: 30 },
    xAxis: { type: "category", data: data.months },
    yAxis: [{ type: "value", name: "户" }, { type: "value", name: "人" }],
    series: series,
  });
  function bars(id, bar) {
    chart(id, {
      tooltip: {}, grid: { left: 8, right: 20, top: 10, bottom: 20, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: bar.labels, inverse: true, axisLabel: NAMES },
      series: [{ type: "bar", data: bar.values, itemStyle: { color: "#9b1c1c" } }],
    });
  }
  bars("chart-review", data.review);
  bars("chart-complaints", data.complaints);
  chart("chart-children", {
    tooltip: { trigger: "axis" }, legend: { top: 0 },
    grid: { left: 8, right: 20, top: 30, bottom: 20, containLabel: true },
    xAxis: { type: "value" }, yAxis: { type: "category", data: data.children.names, inverse: true, axisLabel: NAMES },
    series: [{ name: "在保户数", type: "bar", data: data.children.households, itemStyle: { color: "#9b1c1c" } },
             { name: "新增疑点", type: "bar", data: data.children.findings }],
  });
  window.addEventListener("resize", () => charts.forEach(c => c.resize()));
})();
