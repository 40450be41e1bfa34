/**
 * The examples' code editor: CodeMirror 6 with TypeScript highlighting,
 * bracket matching, undo history, Tab to indent, Ctrl/Cmd+Enter to run, and
 * completion of the local names and of the helpers in scope, whose
 * signatures also show on hover. Loaded after the page, by each example.
 */
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, hoverTooltip } from '@codemirror/view';
import { EditorState, Compartment } from '@codemirror/state';
import { javascript, javascriptLanguage } from '@codemirror/lang-javascript';
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, indentUnit } from '@codemirror/language';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { autocompletion, closeBrackets, closeBracketsKeymap, completeFromList, type Completion } from '@codemirror/autocomplete';

/** The helpers an example has in scope, with their signatures (the completion list shows them). */
export const HELPERS: Completion[] = [
  {
    label: 'print',
    type: 'function',
    detail: '(...values: unknown[]): void',
    info: 'A line of output; tensors print with dtype, shape and values.',
  },
  {
    label: 'table',
    type: 'function',
    detail: '(rows: object[] | unknown[][], columns?: string[]): void',
    info: 'A table from objects (columns from their keys) or arrays.',
  },
  {
    label: 'chart',
    type: 'function',
    detail: '({ title?, data?, series?, x?, xLabel?, yLabel?, logY? }): { add(point) }',
    info: 'A line chart of named series; without data, a live chart that grows with add().',
  },
  {
    label: 'scatter',
    type: 'function',
    detail: '(x: Tensor [N, 2], y: Tensor [N], title?): { boundary(fn, caption?) }',
    info: 'Points coloured by class; boundary(fn) shades the class fn predicts over the plane.',
  },
  {
    label: 'landscape',
    type: 'function',
    detail: '(f: (x, y) => number, { x: [x0, x1], y: [y0, y1], n?, log?, minimum?, title?, xLabel?, yLabel? }): { path(name, points) }',
    info: 'A function of two variables as filled contours; path() draws a descent path on it.',
  },
  {
    label: 'matrix',
    type: 'function',
    detail: '(values: number[][] | Tensor, { title?, rows?, cols?, rowLabel?, colLabel? }): void',
    info: 'A matrix as a shaded table (a confusion matrix).',
  },
  {
    label: 'images',
    type: 'function',
    detail: '(x: Tensor [N, 1, H, W], captions?: string[]): void',
    info: 'Greyscale images with values in 0..1.',
  },
  {
    label: 'sketch',
    type: 'function',
    detail: '(classify: (image: Tensor [1, 1, 28, 28]) => Tensor, { title?, classes? }): void',
    info: 'A pad to draw a digit on, classified by classify when the pen lifts.',
  },
  {
    label: 'ask',
    type: 'function',
    detail: '(question: string, answer: number | Tensor, { tol?, hint? }): void',
    info: 'An exercise: an answer box checked against answer.',
  },
  {
    label: 'graph',
    type: 'function',
    detail: '(root: Tensor, title?): { update(lr, lossAfter) }',
    info: 'The recorded computation graph of root, to step through.',
  },
  {
    label: 'retainGrads',
    type: 'function',
    detail: '(root: Tensor): void',
    info: "Keep the gradient of every intermediate tensor of root's graph.",
  },
  { label: 'progress', type: 'function', detail: '(done: number, total: number, label?: string): void', info: 'A progress bar.' },
  {
    label: 'param',
    type: 'function',
    detail: '(name: string, value: number, { min, max, log?, int? }): number',
    info: 'A number bound to a slider under the code.',
  },
  { label: 'asset', type: 'function', detail: '(path: string): string', info: 'The URL of a file served by this site.' },
  { label: 'tick', type: 'function', detail: '(): Promise<void>', info: 'Lets the page draw during a long loop: await tick().' },
  { label: 'quick', type: 'variable', detail: 'boolean', info: 'True in the automated test (?quick=1): use smaller sizes.' },
];

/** The signature and summary of the helper under the pointer. */
const helperHover = hoverTooltip((view, pos) => {
  const line = view.state.doc.lineAt(pos);
  const at = pos - line.from;
  let a = at;
  let b = at;
  while (a > 0 && /[\w$]/.test(line.text[a - 1])) a--;
  while (b < line.text.length && /[\w$]/.test(line.text[b])) b++;
  const word = line.text.slice(a, b);
  const h = HELPERS.find((c) => c.label === word);
  if (!h || line.text[a - 1] === '.') return null;
  return {
    pos: line.from + a,
    end: line.from + b,
    above: true,
    create() {
      const dom = document.createElement('div');
      dom.className = 'bp-hover';
      const sig = document.createElement('code');
      sig.textContent = `${h.label}${h.detail ?? ''}`;
      const info = document.createElement('div');
      info.textContent = String(h.info ?? '');
      dom.append(sig, info);
      return { dom };
    },
  };
});

/** An editor in `parent`; `onChange` hears every edit, `onRun` Ctrl/Cmd+Enter. */
export function createEditor(
  parent: HTMLElement,
  doc: string,
  opts: { onChange(doc: string): void; onRun(): void; label: string },
): { set(doc: string): void; setReadOnly(ro: boolean): void; destroy(): void } {
  const readOnly = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        indentOnInput(),
        indentUnit.of('  '),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        javascript({ typescript: true }),
        javascriptLanguage.data.of({ autocomplete: completeFromList(HELPERS) }),
        autocompletion(),
        helperHover,
        keymap.of([
          { key: 'Mod-Enter', run: () => (opts.onRun(), true) },
          ...closeBracketsKeymap,
          ...defaultKeymap,
          ...historyKeymap,
          indentWithTab,
        ]),
        readOnly.of(EditorState.readOnly.of(false)),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) opts.onChange(u.state.doc.toString());
        }),
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
      ],
    }),
  });
  return {
    set(next) {
      if (next !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: next } });
    },
    setReadOnly(ro) {
      view.dispatch({ effects: readOnly.reconfigure(EditorState.readOnly.of(ro)) });
    },
    destroy: () => view.destroy(),
  };
}
