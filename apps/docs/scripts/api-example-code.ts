/**
 * How an API reference `@example` becomes a runnable example
 * (scripts/api-examples.ts): the imports of the bp names it uses, and a
 * `print` around each line that states its result in a trailing comment.
 */
import { modules } from '../.vitepress/theme/runner/execute.js';

/** Each exported name of the packages an example can import, and the package it comes from (first wins). */
const exportsByName = new Map<string, string>();
for (const [pkg, mod] of Object.entries(modules)) {
  for (const name of Object.keys(mod as object)) if (!exportsByName.has(name) && name !== 'default') exportsByName.set(name, pkg);
}

const STATEMENT = /^(const|let|var|import|export|for|if|while|do|return|throw|class|function|async|await\s+\w+\s*=|\}|\{|\/\/)/;
/**
 * A trailing comment that states a result: a value (`// 0.04`, `// [2, 4, 6]`, `// 'mul'`, `// null`)
 * or a label and a value (`// row 1: [4, 5, 6, 7]`). A remark in words (`// while hunting a bad
 * label`) states none, so its line is not printed (it would show `undefined`).
 */
const RESULT = /^\/\/\s*([^\sA-Za-z]|(true|false|null|undefined|NaN|Infinity)\b|[^:]*:)/;

/** The example's code with imports added and stated results printed. */
export function runnableCode(code: string): string {
  const declared = new Set([...code.matchAll(/\b(?:const|let|var|class|function)\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
  for (const m of code.matchAll(/\b(?:const|let|var)\s+\{([^}]*)\}/g))
    for (const n of m[1].split(',')) declared.add(n.split(':').pop()!.trim());
  const stripped = code.replace(/\/\/.*$/gm, '').replace(/'[^'\n]*'|"[^"\n]*"|`[^`]*`/g, '');
  const used = new Set([...stripped.matchAll(/(?<![.\w$])([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
  const byPkg = new Map<string, string[]>();
  for (const name of used) {
    const pkg = exportsByName.get(name);
    if (!pkg || declared.has(name)) continue;
    byPkg.set(pkg, [...(byPkg.get(pkg) ?? []), name]);
  }
  const alreadyImports = /^import\s/m.test(code);
  const imports = alreadyImports ? [] : [...byPkg].map(([pkg, names]) => `import { ${names.sort().join(', ')} } from '${pkg}';`);
  // autograd registers the backward rules: import it for its effect when the code uses gradients.
  if (!alreadyImports && /\.backward\(|requiresGrad|\.grad\b/.test(code) && !byPkg.has('@bp/autograd'))
    imports.push("import '@bp/autograd';");
  const body = code.split('\n').map((line) => {
    const m = /^([^\s].*?);\s*(\/\/.*)$/.exec(line);
    if (!m || STATEMENT.test(m[1]) || /^[\w$.[\]]+\s*=[^=]/.test(m[1]) || !RESULT.test(m[2])) return line;
    return `print(${m[1]}); ${m[2]}`;
  });
  return [...imports, ...(imports.length ? [''] : []), ...body].join('\n');
}
