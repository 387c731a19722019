/**
 * The script inside report.html: the hover read-out on the charts and the copy button. Browser code, type-checked
 * against the DOM by tsconfig.page-script.json and compiled into page-script.generated.ts by
 * scripts/build-page-script.mjs (both run by `npm run build`). Kept small and defensive: the page works without
 * it, so any surprise returns quietly. Every number it shows was formatted by the lab (see chart-data.ts).
 */
import type { ChartData } from './chart-data.js';

(function (): void {
  const data = new Map<string, ChartData>();
  try {
    const charts = JSON.parse(document.getElementById('chart-data')?.textContent ?? '[]') as ChartData[];
    for (const c of charts) data.set(c.id, c);
  } catch {
    return;
  }

  document.querySelectorAll<SVGSVGElement>('svg.chart').forEach((svg) => {
    const c = data.get(svg.id);
    const tip = svg.parentElement?.querySelector<HTMLElement>('.tip');
    const cursor = svg.querySelector<SVGLineElement>('.cursor');
    if (!c || !tip || !cursor) return;
    const hide = (): void => {
      tip.style.display = 'none';
      cursor.setAttribute('visibility', 'hidden');
    };
    svg.addEventListener('mousemove', (ev: MouseEvent) => {
      const m = svg.getScreenCTM();
      if (!m) return;
      const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m.inverse());
      if (p.x < c.box.left || p.x > c.box.left + c.box.width) return hide();
      const t = c.x[0] + ((p.x - c.box.left) / c.box.width) * (c.x[1] - c.x[0]);
      // The sample time nearest the pointer, across series; then every series' value at that time.
      let best: [number, number | null, string, string] | null = null;
      for (const s of c.series) for (const q of s.points) if (best === null || Math.abs(q[0] - t) < Math.abs(best[0] - t)) best = q;
      if (best === null) return;
      const at = best[0];
      const lines = [best[2]];
      for (const s of c.series) for (const q of s.points) if (q[0] === at) lines.push((c.series.length > 1 ? `${s.name}: ` : '') + q[3]);
      const x = c.box.left + ((at - c.x[0]) / (c.x[1] - c.x[0])) * c.box.width;
      cursor.setAttribute('x1', String(x));
      cursor.setAttribute('x2', String(x));
      cursor.setAttribute('visibility', 'visible');
      tip.textContent = lines.join('  ·  ');
      const r = svg.getBoundingClientRect();
      const px = (x / c.size.width) * r.width;
      tip.style.display = 'block';
      tip.style.left = `${Math.min(px + 10, r.width - tip.offsetWidth - 4)}px`;
      tip.style.top = `${Math.round((c.box.top / c.size.height) * r.height + 4)}px`;
    });
    svg.addEventListener('mouseleave', hide);
  });

  const btn = document.getElementById('copy');
  const replay = document.getElementById('replay');
  if (!btn || !replay) return;
  btn.addEventListener('click', () => {
    const done = (): void => {
      btn.textContent = 'copied';
      setTimeout(() => (btn.textContent = 'copy'), 1500);
    };
    // Off a secure context (a file:// page in some browsers) the clipboard is closed: select the text instead.
    const select = (): void => {
      const range = document.createRange();
      range.selectNodeContents(replay);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(replay.textContent ?? '').then(done, select);
    else select();
  });
})();
