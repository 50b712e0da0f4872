// Grammar check of PowerShell scripts with tree-sitter-powershell.
//
//   node check.mjs FILE... [-]   parse each file ("-" reads stdin); print
//                                file:line:col for every ERROR or MISSING
//                                node; exit 1 if there is any
//   node check.mjs --self-test   check that testdata/broken.ps1 is caught
//                                and testdata/good.ps1 is not
//
// A syntax check only: it proves the scripts parse, not that they run on
// PowerShell 2.0 (the Go test in probes/ checks the constructs).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Parser from 'tree-sitter';
import PowerShell from 'tree-sitter-powershell/bindings/node/index.js';

const parser = new Parser();
parser.setLanguage(PowerShell);

// problems returns "line:col: what" for each ERROR or MISSING node.
function problems(source) {
  const out = [];
  const walk = (node) => {
    if (node.isMissing) {
      out.push(at(node, `missing ${node.type}`));
    } else if (node.isError) {
      out.push(at(node, `syntax error near ${JSON.stringify(node.text.slice(0, 40))}`));
    }
    if (node.hasError) {
      for (const child of node.children) walk(child);
    }
  };
  walk(parser.parse(source).rootNode);
  return out;
}

function at(node, what) {
  const { row, column } = node.startPosition;
  return `${row + 1}:${column + 1}: ${what}`;
}

function check(name, source) {
  const found = problems(source);
  for (const p of found) console.log(`${name}:${p}`);
  return found.length;
}

function selfTest() {
  const dir = new URL('./testdata/', import.meta.url);
  const bad = check('testdata/broken.ps1', readFileSync(new URL('broken.ps1', dir), 'utf8'));
  const good = check('testdata/good.ps1', readFileSync(new URL('good.ps1', dir), 'utf8'));
  if (bad === 0 || good !== 0) {
    console.error(`self-test FAILED: broken.ps1 gave ${bad} problems (want > 0), good.ps1 gave ${good} (want 0)`);
    return 1;
  }
  console.error(`self-test ok: broken.ps1 gave ${bad} problems, good.ps1 none`);
  return 0;
}

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--self-test') {
  process.exit(selfTest());
}
if (args.length === 0) {
  console.error('usage: node check.mjs FILE... (- for stdin) | --self-test');
  process.exit(2);
}
let total = 0;
for (const file of args) {
  const source = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  total += check(file === '-' ? '<stdin>' : file, source);
}
if (total > 0) {
  console.error(`${total} grammar problem(s)`);
  process.exit(1);
}
console.error(`${args.length} file(s) parse cleanly`);
