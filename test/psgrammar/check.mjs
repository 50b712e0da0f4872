// Grammar and language-mode check of PowerShell scripts with
// tree-sitter-powershell.
//
//   node check.mjs FILE... [-]   parse each file ("-" reads stdin); print
//                                file:line:col for every ERROR or MISSING
//                                node and every ConstrainedLanguage
//                                finding; exit 1 if there is any
//   node check.mjs --clm-json FILE...
//                                print the language-mode findings as JSON
//                                ({file: [{line, rule, text}]}), exit 0
//   node check.mjs --self-test   check that testdata/broken.ps1 is caught
//                                and testdata/good.ps1 is not, and that the
//                                planted violations of
//                                testdata/clm-violations.ps1 are found
//                                exactly
//
// The grammar check proves the scripts parse, not that they run on
// PowerShell 2.0 (the Go test in probes/ checks the constructs). The
// language-mode check is the rule set of probes/langmode.go on the syntax
// tree (see there for the rules); the Go test TestLanguageModeCheckersAgree
// proves the two find the same on the bundle and the planted violations.
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

// ---- Language-mode (ConstrainedLanguage) check -------------------------

// The allowed types and COM objects (about_Language_Modes), shared with Go.
const allowed = new Set();
const allowedCOM = new Set();
for (let line of readFileSync(new URL('../../probes/clm-allowed-types.txt', import.meta.url), 'utf8').split('\n')) {
  line = line.trim();
  if (line === '' || line.startsWith('#')) continue;
  if (line.startsWith('com:')) { allowedCOM.add(line.slice(4).toLowerCase()); continue; }
  for (const name of line.split(/\s+/)) allowed.add(name.toLowerCase());
}

function typeAllowed(name) {
  const n = name.replace(/\s+/g, '').toLowerCase();
  if (allowed.has(n)) return true;
  if (n.endsWith('[]')) {
    const el = n.slice(0, -2);
    return allowed.has(el) || allowed.has('system.' + el);
  }
  return false;
}

const guardConditions = new Set([
  '$aadcfulllanguage',
  "$executioncontext.sessionstate.languagemode-eq'fulllanguage'",
  "[string]$executioncontext.sessionstate.languagemode-eq'fulllanguage'",
]);

// core descends through the grammar's single-child wrappers
// (pipeline -> ... -> unary_expression) to the expression itself.
function core(node) {
  while (node && node.namedChildCount === 1 && node.type !== 'parenthesized_expression' &&
         node.type !== 'member_access' && node.type !== 'invokation_expression' && node.type !== 'cast_expression') {
    node = node.namedChild(0);
  }
  return node;
}

function memberOp(node) {
  return node.children.some((c) => !c.isNamed && c.type === '::') ? '::' : '.';
}

// receiverAllowed: a receiver of an allowed type, visible in the text.
function receiverAllowed(recv, op) {
  if (op === '::') return recv.type === 'type_literal' && typeAllowed(recv.text.slice(1, -1));
  if (recv.type === 'string_literal') return true;
  if (recv.type !== 'parenthesized_expression') return false;
  const inner = core(recv.namedChild(0));
  if (!inner || inner.type !== 'cast_expression') return false;
  const type = inner.namedChild(0);
  if (type.type !== 'type_literal' || !typeAllowed(type.text.slice(1, -1))) return false;
  let operand = core(inner.namedChild(1));
  while (operand && operand.type === 'member_access' && memberOp(operand) === '.') operand = core(operand.namedChild(0));
  return operand && operand.type === 'variable';
}

function hasCall(node) {
  if (node.type === 'invokation_expression') return true;
  return node.namedChildren.some(hasCall);
}

function unquote(s) {
  return /^(['"]).*\1$/s.test(s) ? s.slice(1, -1) : s;
}

// clmFindings returns [{line, rule, text}] for a syntax tree.
function clmFindings(root) {
  const out = [];
  const add = (node, rule, text) => out.push({ line: node.startPosition.row + 1, rule, text });
  const walk = (node, guarded) => {
    if (node.type === 'if_statement' || node.type === 'elseif_clause') {
      const cond = node.namedChildren.find((c) => c.type === 'pipeline');
      const block = node.namedChildren.find((c) => c.type === 'statement_block');
      const isGuard = cond && guardConditions.has(cond.text.replace(/\s+/g, '').toLowerCase());
      for (const c of node.namedChildren) walk(c, guarded || (isGuard && c === block));
      return;
    }
    if (!guarded) check(node);
    for (const c of node.namedChildren) walk(c, guarded);
  };
  const check = (node) => {
    switch (node.type) {
      case 'type_literal': {
        const name = node.text.slice(1, -1);
        if (!typeAllowed(name)) add(node, 'type', `type [${name}] is not allowed`);
        break;
      }
      case 'invokation_expression': {
        const recv = node.namedChild(0);
        const name = node.namedChildren.find((c) => c.type === 'member_name');
        if (name && !receiverAllowed(recv, memberOp(node))) {
          add(name, 'method', `method call ${name.text}() on a type not known to be allowed`);
        }
        break;
      }
      case 'assignment_expression': {
        let left = core(node.namedChild(0));
        if (left && left.type === 'cast_expression') left = core(left.namedChild(1));
        if (left && left.type === 'member_access') {
          const name = left.namedChildren.find((c) => c.type === 'member_name');
          if (name && !receiverAllowed(left.namedChild(0), memberOp(left))) {
            add(name, 'property-set', `property set ${name.text} on a type not known to be allowed`);
          }
        }
        break;
      }
      case 'command': {
        const op = node.namedChildren.find((c) => c.type === 'command_invokation_operator');
        const target = node.namedChildren.find((c) => c.type === 'command_name_expr');
        if (op && target && target.namedChild(0) && target.namedChild(0).type === 'parenthesized_expression' && hasCall(target)) {
          add(op, 'invoke-text', `runs a script block built from text with ${op.text}`);
        }
        const cmd = node.namedChildren.find((c) => c.type === 'command_name');
        if (!cmd) break;
        const name = cmd.text.toLowerCase();
        if (name === 'add-type') add(cmd, 'add-type', 'Add-Type');
        if (name !== 'new-object') break;
        const elems = node.namedChildren.find((c) => c.type === 'command_elements');
        const args = elems ? elems.namedChildren.filter((c) => c.type !== 'command_argument_sep') : [];
        let type = '';
        let com = false;
        for (let k = 0; k < args.length; k++) {
          if (args[k].type === 'command_parameter') {
            const p = args[k].text.replace(/^-/, '').replace(/:$/, '').toLowerCase();
            if (k + 1 < args.length && (('comobject'.startsWith(p) && p.length >= 3) || 'typename'.startsWith(p))) {
              com = 'comobject'.startsWith(p);
              type = unquote(args[k + 1].text);
              break;
            }
            k++; // another parameter's value
            continue;
          }
          type = unquote(args[k].text);
          break;
        }
        if (com ? !allowedCOM.has(type.toLowerCase()) : !typeAllowed(type)) {
          add(cmd, 'new-object', `New-Object ${com ? '-ComObject ' : ''}${type}`);
        }
        break;
      }
    }
  };
  walk(root, false);
  return out;
}

function checkCLM(name, source) {
  const found = clmFindings(parser.parse(source).rootNode);
  for (const f of found) console.log(`${name}:${f.line}: ConstrainedLanguage: ${f.rule}: ${f.text}`);
  return found.length;
}

// expected reads the "# expect: rule,rule" marks of a planted file.
function expected(source) {
  const want = [];
  source.split('\n').forEach((line, i) => {
    const m = line.match(/# expect: (\S+)\s*$/);
    if (m) for (const r of m[1].split(',')) want.push(`${i + 1}:${r}`);
  });
  return want.sort();
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
  const planted = readFileSync(new URL('clm-violations.ps1', dir), 'utf8');
  const want = expected(planted);
  const got = clmFindings(parser.parse(planted).rootNode).map((f) => `${f.line}:${f.rule}`).sort();
  if (want.length < 10 || JSON.stringify(got) !== JSON.stringify(want)) {
    console.error(`self-test FAILED: clm-violations.ps1 findings\n got ${got.join(' ')}\nwant ${want.join(' ')}`);
    return 1;
  }
  console.error(`self-test ok: broken.ps1 gave ${bad} problems, good.ps1 none, clm-violations.ps1 all ${want.length} planted findings`);
  return 0;
}

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--self-test') {
  process.exit(selfTest());
}
if (args.length > 0 && args[0] === '--clm-json') {
  const out = {};
  for (const file of args.slice(1)) out[file] = clmFindings(parser.parse(readFileSync(file, 'utf8')).rootNode);
  console.log(JSON.stringify(out));
  process.exit(0);
}
if (args.length === 0) {
  console.error('usage: node check.mjs FILE... (- for stdin) | --clm-json FILE... | --self-test');
  process.exit(2);
}
let total = 0;
let clm = 0;
for (const file of args) {
  const source = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  const name = file === '-' ? '<stdin>' : file;
  total += check(name, source);
  clm += checkCLM(name, source);
}
if (total > 0 || clm > 0) {
  console.error(`${total} grammar problem(s), ${clm} ConstrainedLanguage finding(s)`);
  process.exit(1);
}
console.error(`${args.length} file(s) parse cleanly and run in ConstrainedLanguage`);
