import { parser } from '@prometheus-io/lezer-promql';

// Derived rather than imported: @lezer/common is only a transitive dependency.
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export type PromQLCheck = { ok: true } | { ok: false; message: string; offset: number };

/**
 * Syntax check with Prometheus's own lezer grammar (the one its web UI uses), so a typo is caught
 * before anything starts. It checks syntax only: type errors such as `rate(x)` (rate of an instant
 * vector) are reported by Prometheus at query time. `offset` is 0-based into `expr`.
 */
export function checkPromQL(expr: string): PromQLCheck {
  if (expr.trim() === '') return { ok: false, message: 'the expression is empty', offset: 0 };
  const tree = parser.parse(expr);
  let first: SyntaxNode | undefined;
  tree.iterate({
    enter(ref) {
      if (first) return false;
      if (ref.type.isError) {
        first = ref.node;
        return false;
      }
      return undefined;
    },
  });
  if (!first) return { ok: true };
  return describeError(expr, first);
}

/** What the user was writing when the parser gave up, by the enclosing grammar node. */
const CONTEXT: Record<string, string> = {
  GroupingLabels: 'the by/without label list (it needs parentheses: `by (a, b)`)',
  UnquotedLabelMatcher: 'a label matcher (the value must be a quoted string: `name="value"`)',
  QuotedLabelMatcher: 'a label matcher (the value must be a quoted string: `name="value"`)',
  LabelMatchers: 'the label matchers `{…}`',
  FunctionCallBody: 'the function arguments',
  MatrixSelector: 'the range selector `[…]`',
  SubqueryExpr: 'the subquery `[range:step]`',
  BinaryExpr: 'a binary expression (an operator needs an operand on each side)',
  OffsetExpr: 'an offset (write `offset 5m`)',
  AggregateExpr: 'an aggregation',
  AggregateModifier: 'an aggregation modifier (`by (…)` or `without (…)`)',
  ParenExpr: 'parentheses',
  VectorSelector: 'a selector',
};

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Brackets still open at `end`, skipping string literals, innermost last. */
function openBrackets(expr: string, end: number): string[] {
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < end; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c in CLOSER) stack.push(c);
    else if (c === ')' || c === ']' || c === '}') stack.pop();
  }
  return stack;
}

function describeError(expr: string, node: SyntaxNode): { ok: false; message: string; offset: number } {
  // Zero-width error nodes can sit on whitespace; point at the next real character.
  let offset = node.from;
  while (offset < expr.length && /\s/.test(expr[offset]!)) offset++;
  const context = CONTEXT[node.parent?.name ?? ''];
  const where = context ? ` in ${context}` : '';

  if (offset >= expr.length) {
    const open = openBrackets(expr, expr.length);
    const innermost = open[open.length - 1];
    const missing = innermost ? `; missing \`${CLOSER[innermost]}\`` : '';
    return { ok: false, message: `unexpected end of expression${where}${missing}`, offset: expr.length };
  }

  // `foo(x)` with an unknown function name parses as a selector followed by junk.
  const before = expr.slice(0, offset);
  const fn = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(before);
  if (node.parent?.name === 'VectorSelector' && expr[offset] === '(' && fn) {
    return { ok: false, message: `unknown function \`${fn[1]}\``, offset: offset - fn[0].length };
  }

  const token = /^([a-zA-Z_:][a-zA-Z0-9_:]*|\d+(?:\.\d+)?[a-z]*|"[^"]*"?|\S)/.exec(expr.slice(offset))?.[0] ?? '';
  return { ok: false, message: `unexpected \`${token}\`${where}`, offset };
}

/** Brackets a query may nest: real ones nest 5 or 6; Prometheus's parser recurses per level. */
export const MAX_QUERY_NESTING = 64;

export type RangeQueryCheck = { ok: true } | { ok: false; message: string; hint: string };

/** The expression under parentheses, offsets and `@` modifiers: what decides the query's result type. */
function resultNode(expr: string): SyntaxNode | null {
  let node: SyntaxNode | null = parser.parse(expr).topNode.firstChild;
  while (node && (node.name === 'ParenExpr' || node.name === 'OffsetExpr' || node.name === 'StepInvariantExpr')) node = node.firstChild;
  return node;
}

/**
 * What parses but cannot be judged: the lab asks Prometheus for a range query (query_range), which
 * only takes an expression that gives a number or an instant vector. A string literal, a range
 * vector (`x[5m]`) or a subquery would fail at query time, after the whole run; say so before it.
 * Also a selector that matches every series (`{}` or `{job=""}`), which Prometheus refuses.
 */
export function checkRangeQuery(expr: string): RangeQueryCheck {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < expr.length && expr[i] !== c; i++) if (expr[i] === '\\' && c !== '`') i++;
    } else if (c === '(' || c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if (c === ')' || c === ']' || c === '}') depth--;
  }
  if (deepest > MAX_QUERY_NESTING) {
    return { ok: false, message: `the query nests brackets ${deepest} levels deep; at most ${MAX_QUERY_NESTING} are allowed`, hint: 'simplify the expression' };
  }
  const top = resultNode(expr);
  if (top?.name === 'StringLiteral') {
    return { ok: false, message: 'the query is a string literal; a range query needs an expression that gives numbers', hint: 'query a metric, e.g. sum(rate(chaoslab_client_requests_total[3s]))' };
  }
  if (top?.name === 'MatrixSelector' || top?.name === 'SubqueryExpr') {
    return {
      ok: false,
      message: `the query gives a range vector (${top.name === 'MatrixSelector' ? '`x[5m]`' : 'a subquery `…[1m:1s]`'}), which a range query cannot return`,
      hint: 'wrap it in a function over the range, e.g. rate(x[5m]) or max_over_time(x[5m])',
    };
  }
  let empty: SyntaxNode | undefined;
  parser.parse(expr).iterate({
    enter(ref) {
      if (empty) return false;
      if (ref.name !== 'VectorSelector') return undefined;
      const node = ref.node;
      if (!node.getChild('Identifier') && !matchers(expr, node).some((m) => !matchesEmpty(m))) empty = node;
      return false;
    },
  });
  if (empty) {
    return {
      ok: false,
      message: `the selector \`${expr.slice(empty.from, empty.to)}\` matches every series (it needs a metric name or a label matcher that does not match the empty string)`,
      hint: 'name the metric, e.g. chaoslab_client_requests_total{outcome="ok"}',
    };
  }
  return { ok: true };
}

interface Matcher {
  label: string;
  op: string;
  value: string;
}

function matchers(expr: string, selector: SyntaxNode): Matcher[] {
  const out: Matcher[] = [];
  const list = selector.getChild('LabelMatchers');
  for (let m = list?.firstChild ?? null; m; m = m.nextSibling) {
    const label = m.getChild('LabelName');
    const op = m.getChild('MatchOp');
    const value = m.getChild('StringLiteral');
    if (!op || !value) continue;
    out.push({ label: label ? expr.slice(label.from, label.to) : '__name__', op: expr.slice(op.from, op.to), value: unquote(expr.slice(value.from, value.to)) });
  }
  return out;
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return literal.startsWith('`') ? body : body.replace(/\\(.)/g, '$1');
}

function matchesEmpty(m: Matcher): boolean {
  if (m.op === '=') return m.value === '';
  if (m.op === '!=') return m.value !== '';
  try {
    const re = new RegExp(`^(?:${m.value})$`);
    return m.op === '=~' ? re.test('') : !re.test('');
  } catch {
    return false;
  }
}

/** Metric names an expression selects: `name{…}` and `{__name__="name"}`; not functions, labels or strings. */
export function selectedMetrics(expr: string): string[] {
  const names = new Set<string>();
  parser.parse(expr).iterate({
    enter(ref) {
      if (ref.name !== 'VectorSelector') return undefined;
      const node = ref.node;
      const id = node.getChild('Identifier');
      if (id) names.add(expr.slice(id.from, id.to));
      for (const m of matchers(expr, node)) if (m.label === '__name__' && m.op === '=') names.add(m.value);
      return false;
    },
  });
  return [...names];
}
