/**
 * The recorded computation graph of a tensor, printed as Mermaid or Graphviz
 * DOT. It follows `gradFn` (the op record autograd leaves on every op's output)
 * (each node names its op and its input tensors), so what is drawn is exactly
 * what `backward()` walks: tensors as boxes with their values and gradients,
 * ops as ellipses between them.
 */
import { gradFn, graphTensors } from '@bp/autograd';
import { ArgumentError, type NestedArray, type Tensor } from '@bp/tensor';
import { GRAPH_FORMATS, type GraphFormat } from './choices.js';

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-4 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Values as a compact nested list, cut after `maxValues` numbers so large tensors stay readable. */
export function fmtValues(t: Tensor, maxValues = 8): string {
  if (t.size > maxValues) {
    const flat = Array.from(t.dataSync().subarray(0, maxValues), fmtNum);
    return `[${flat.join(', ')}, … ${t.size - maxValues} more]`;
  }
  const walk = (a: NestedArray): string => (Array.isArray(a) ? `[${a.map(walk).join(', ')}]` : fmtNum(a));
  return walk(t.toArray());
}

function tensorLabel(t: Tensor): string[] {
  const lines = [`${t.name ?? `t${t.id}`} [${t.shape.join(',')}]`, `value ${fmtValues(t)}`];
  if (t.grad) lines.push(`grad ${fmtValues(t.grad)}`);
  return lines;
}

function mermaidText(lines: string[]): string {
  return lines.map((l) => l.replace(/"/g, '#quot;')).join('<br/>');
}

function dotText(lines: string[]): string {
  return lines.map((l) => l.replace(/\\/g, '\\\\').replace(/"/g, '\\"')).join('\\n');
}

/** The graph that produced `root`, in the chosen format. */
export function renderGraph(root: Tensor, format: GraphFormat): string {
  if (!GRAPH_FORMATS.includes(format)) {
    throw new ArgumentError('renderGraph', `unknown format '${String(format)}'; expected one of ${GRAPH_FORMATS.join(', ')}`);
  }
  const tensors = graphTensors(root);
  const out: string[] = [];
  if (format === 'mermaid') {
    out.push('flowchart LR');
    for (const t of tensors) {
      out.push(`  t${t.id}["${mermaidText(tensorLabel(t))}"]`);
      const node = gradFn(t);
      if (!node) continue;
      out.push(`  op${t.id}(["${mermaidText([node.op])}"])`);
      for (const inp of node.inputs) out.push(`  t${inp.id} --> op${t.id}`);
      out.push(`  op${t.id} --> t${t.id}`);
    }
  } else {
    out.push('digraph bp {', '  rankdir=LR;', '  node [fontname="monospace", fontsize=10];');
    for (const t of tensors) {
      out.push(`  t${t.id} [shape=box, label="${dotText(tensorLabel(t))}"];`);
      const node = gradFn(t);
      if (!node) continue;
      out.push(`  op${t.id} [shape=ellipse, style=filled, fillcolor="#eeeeee", label="${dotText([node.op])}"];`);
      for (const inp of node.inputs) out.push(`  t${inp.id} -> op${t.id};`);
      out.push(`  op${t.id} -> t${t.id};`);
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}
