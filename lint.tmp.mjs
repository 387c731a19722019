import { loadDashboards, lintDashboard, registeredMetricNames, dashboardQueries, substituteVariables, metricNames } from './dist/src/report/dashboards.js';
const reg = registeredMetricNames('.');
console.log(reg.size);
for (const f of loadDashboards('dashboards')) {
  console.log(f.name, dashboardQueries(f.dashboard).length, lintDashboard(f, reg));
  for (const q of dashboardQueries(f.dashboard).slice(0,3)) console.log('  ', substituteVariables(q.expr, f.dashboard), metricNames(substituteVariables(q.expr, f.dashboard)));
}
