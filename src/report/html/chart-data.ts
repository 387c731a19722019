/**
 * What each chart hands the page's script (as JSON in the page): enough to place the hover cursor, and every
 * value already written by the lab's number formatter, so the read-out says what the axes and the terminal say.
 * No imports: the page script (compiled for the browser on its own) reads this type too.
 */
export interface ChartData {
  id: string;
  /** Seconds from the load's start at the plot's left and right edges. */
  x: [number, number];
  y: [number, number];
  /** The plot area inside the SVG's viewBox. */
  box: { left: number; top: number; width: number; height: number };
  /** The viewBox's size. */
  size: { width: number; height: number };
  /** Per point: seconds from the load's start, the value (null for NaN/±Inf), the time and value as shown. */
  series: { name: string; color: string; points: [number, number | null, string, string][] }[];
}
