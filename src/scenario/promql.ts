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
