/** The page's stylesheet, inline in the page (nothing is loaded from the network). */
export const CSS = `
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--soft)}
main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:0}small,.small{font-size:12px}.muted{color:var(--muted)}code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eff1f3;padding:1px 4px;border-radius:4px}
header{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:16px 18px;display:grid;grid-template-columns:1fr auto;gap:6px 16px}
.big{font-size:20px;font-weight:700;padding:6px 14px;border-radius:6px;color:#fff;align-self:start;text-align:center}
.big.pass{background:var(--pass)}.big.fail{background:var(--fail)}.big.interrupted{background:var(--warn)}
.meta{grid-column:1/-1;display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin-top:8px}
.meta span:nth-child(odd){color:var(--muted)}
.cmd{display:flex;gap:8px;align-items:center}.cmd code{font-size:13px;padding:3px 6px;user-select:all}
button{font:12px sans-serif;border:1px solid var(--line);background:var(--soft);border-radius:5px;padding:2px 8px;cursor:pointer}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:12px}
.card{background:var(--bg);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:12px 14px}
.card.ok{border-left-color:var(--pass)}.card.bad{border-left-color:var(--fail)}
.card-head{display:flex;gap:8px;align-items:center;margin-bottom:4px}.expect{margin:4px 0 8px}
.kv{display:grid;grid-template-columns:92px 1fr;gap:8px;padding:2px 0;border-top:1px dashed #eaeef2}.kv>span:first-child{color:var(--muted)}
.chip{display:inline-block;font-size:12px;font-weight:600;padding:1px 8px;border-radius:10px;border:1px solid}
.chip.pass{color:var(--pass);border-color:#4ac26b;background:#dafbe1}.chip.fail{color:var(--fail);border-color:#ff8182;background:#ffebe9}
.chip.warn{color:var(--warn);border-color:#d4a72c;background:#fff8c5}.chip.info{color:#0969da;border-color:#54aeff;background:#ddf4ff}
.error{margin-top:8px;padding:6px 8px;background:#ffebe9;border:1px solid #ff8182;border-radius:6px}
.bad-text{color:var(--fail)}
.panel{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin-bottom:12px}
.panel h3{display:flex;gap:8px;align-items:baseline}
table.events{border-collapse:collapse;width:100%;font-size:13px;margin-top:6px}
table.events th,table.events td{text-align:left;padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
table.events th{color:var(--muted);font-weight:600}
table.events tr.stale td{background:#ffebe9}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:2px 0 10px}
.sw{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
.variant-chart{border:1px solid #eaeef2;border-radius:6px;padding:8px 10px}
.variant-chart .vh{display:flex;gap:8px;align-items:center;justify-content:space-between}
.variant-chart .reason{font-size:12px;color:var(--muted);margin:4px 0 0}
.chart-wrap{position:relative}
.query{display:block;white-space:pre-wrap;word-break:break-all;margin:4px 0}
svg{display:block;width:100%;height:auto;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif}
.plot-bg{fill:#fff}.window{fill:#0969da;fill-opacity:.06;stroke:#0969da;stroke-opacity:.35;stroke-dasharray:2 3}
.fault{fill:#cf222e;fill-opacity:.12}
.ttr-label,.deadline-label,.threshold-label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.end{text-anchor:end}.fault-label{font-size:10px;fill:#a40e26}
.grid{stroke:#eaeef2}.axis{stroke:#8c959f}.xtick{stroke:#8c959f}
.tick{font-size:10px;fill:#656d76}.tick.y{text-anchor:end}.tick.x{text-anchor:middle}
.threshold{stroke:#bc4c00;stroke-width:1.4;stroke-dasharray:6 4}.threshold-label{font-size:10.5px;fill:#bc4c00;text-anchor:end;font-weight:600}
.series{fill:none;stroke-width:1.8;stroke-linejoin:round}.pt.bad{stroke:#fff;stroke-width:.8}
.ttr{stroke:#1a7f37;stroke-width:1.4}.deadline{stroke:#1a7f37;stroke-width:1;stroke-dasharray:2 3}.deadline-label{font-size:10px;fill:#1a7f37}
.params div{margin:1px 0}mark{background:#fff8c5;border-radius:3px;padding:0 2px;color:inherit}.ttr-label{font-size:10.5px;fill:#1a7f37;font-weight:600}
.ttr-text{font-size:13px;margin-top:4px}
.empty{font-size:12px;fill:#9a6700;text-anchor:middle}
.cursor{stroke:#57606a;stroke-dasharray:3 3}
.tip{position:absolute;pointer-events:none;background:rgba(31,35,40,.92);color:#fff;font-size:12px;padding:4px 7px;border-radius:5px;white-space:nowrap;display:none;z-index:2}
.timeline .row-label{font-size:12px;text-anchor:end;fill:#1f2328}
.timeline .scheduled{fill:none;stroke:#8c959f;stroke-dasharray:3 2}
.timeline .applied{fill:#cf222e;fill-opacity:.75}.timeline .applied.failed{fill:#9a6700}
.timeline .bar-label{font-size:11px;fill:#1f2328}.timeline .bar-label.inside{fill:#fff}.timeline .bar-label.before{text-anchor:end}
.timeline .phase-label{font-size:11px;fill:#1f2328}
.timeline .load-mark{fill:#8250df}
details{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:8px 14px}
summary{cursor:pointer;font-weight:600}
pre.journal{font-size:11.5px;max-height:480px;overflow:auto;background:var(--soft);padding:8px;border-radius:6px}
footer{margin-top:24px;color:var(--muted);font-size:12px}
@media print{body{background:#fff}.tip,button{display:none}}
`;
