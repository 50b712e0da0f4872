// aadcready report: sorting, filtering and the host details. Reads the host
// data with JSON.parse and only ever writes text (textContent, form values,
// class names): no host string is ever parsed as markup.
(() => {
  'use strict';
  const doc = document;
  doc.documentElement.classList.remove('no-js');

  const data = JSON.parse(doc.getElementById('report-data').textContent);
  const table = doc.getElementById('host-table');
  const tbody = table.tBodies[0];
  const rows = Array.from(tbody.rows);
  const hostOf = (row) => data.hosts[Number(row.dataset.i)];
  const cardOf = (row) => doc.getElementById('host-' + row.dataset.i);
  const rank = new Map(data.order.map((v, i) => [v, i]));
  // Free-text search matches what the row shows, computed once.
  const haystack = rows.map((row) => row.textContent.toLowerCase());

  // Filtering: rows and their detail cards are hidden together, so printing
  // a filtered view prints only those hosts.
  const $ = (id) => doc.getElementById(id);
  const fVerdict = $('f-verdict');
  const fTag = $('f-tag');
  const fCheck = $('f-check');
  const fText = $('f-text');
  const count = $('f-count');
  const fmt = new Intl.NumberFormat('en');

  function applyFilters() {
    const v = fVerdict.value;
    const t = fTag.value;
    const c = fCheck.value;
    const q = fText.value.trim().toLowerCase();
    let shown = 0;
    rows.forEach((row, k) => {
      const h = hostOf(row);
      const ok = (!v || h.v === v) &&
        (!t || (h.t || []).includes(t)) &&
        (!c || (h.f || []).includes(c)) &&
        (!q || haystack[k].includes(q));
      row.hidden = !ok;
      const card = cardOf(row);
      if (card) card.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown === rows.length
      ? fmt.format(rows.length) + ' hosts'
      : fmt.format(shown) + ' of ' + fmt.format(rows.length) + ' hosts';
  }
  [fVerdict, fTag, fCheck].forEach((el) => el.addEventListener('change', applyFilters));
  fText.addEventListener('input', applyFilters);
  $('f-clear').addEventListener('click', () => {
    fVerdict.value = fTag.value = fCheck.value = fText.value = '';
    applyFilters();
  });

  // Tiles and chart bars filter the table on the way to it.
  const selectIfPresent = (select, value) => {
    if (Array.from(select.options).some((o) => o.value === value)) select.value = value;
  };
  doc.addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const pick = target && target.closest('[data-verdict], [data-check]');
    if (pick) {
      fVerdict.value = fTag.value = fCheck.value = fText.value = '';
      if (pick.dataset.verdict) selectIfPresent(fVerdict, pick.dataset.verdict);
      if (pick.dataset.check) selectIfPresent(fCheck, pick.dataset.check);
      applyFilters();
    }
    const link = target && target.closest('a[href^="#host-"]');
    if (link) openCard(link.getAttribute('href').slice(1));
  });

  // Sorting: click a header; again to reverse. Empty values always sort last;
  // ties keep the scan order.
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  const version = (a, b) => {
    const x = a.split('.');
    const y = b.split('.');
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const d = (parseInt(x[i], 10) || 0) - (parseInt(y[i], 10) || 0);
      if (d) return d;
    }
    return 0;
  };
  const keys = {
    text: (row, col) => row.cells[col].textContent.trim(),
    verdict: (row) => rank.has(hostOf(row).v) ? rank.get(hostOf(row).v) : rank.size,
    score: (row) => hostOf(row).s,
    version: (row) => hostOf(row).b || null,
    blocking: (row) => hostOf(row).k || 0,
    waivers: (row) => hostOf(row).w || 0,
  };
  const compare = (kind, a, b) => {
    if (kind === 'text') return collator.compare(a, b);
    if (kind === 'version') return version(a, b);
    return a - b;
  };
  const empty = (x) => x === null || x === undefined || x === '';
  const headers = Array.from(table.tHead.rows[0].cells).filter((th) => th.dataset.sort);

  function sortBy(th) {
    const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    headers.forEach((h) => h.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    const kind = th.dataset.sort;
    const key = keys[kind];
    const col = th.cellIndex;
    const vals = new Map(rows.map((row) => [row, key(row, col)]));
    const sorted = rows.slice().sort((r1, r2) => {
      const a = vals.get(r1);
      const b = vals.get(r2);
      if (empty(a) || empty(b)) {
        if (empty(a) && empty(b)) return r1.dataset.i - r2.dataset.i;
        return empty(a) ? 1 : -1;
      }
      return compare(kind === 'text' || kind === 'version' ? kind : 'num', a, b) * dir ||
        r1.dataset.i - r2.dataset.i;
    });
    const frag = doc.createDocumentFragment();
    sorted.forEach((row) => frag.appendChild(row));
    tbody.appendChild(frag);
  }
  headers.forEach((th) => {
    const b = doc.createElement('button');
    b.type = 'button';
    b.className = 'sort';
    b.textContent = th.textContent;
    th.textContent = '';
    th.appendChild(b);
    b.addEventListener('click', () => sortBy(th));
  });

  // Host details. The check rows of every host arrive gzip-compressed
  // (base64 in a JSON string); they are unpacked once, in memory, and a
  // card's rows are drawn when it is first opened.
  let details = null;
  let unpackError = null;
  const unpacked = (async () => {
    const b64 = JSON.parse($('report-details').textContent);
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return JSON.parse(await new Response(stream).text());
  })().then((d) => { details = d; }, (err) => { unpackError = err; });

  const el = (tag, className, text) => {
    const e = doc.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  };
  const statusLabels = {
    pass: 'pass', fail: 'fail', could_not_check: 'could not check', not_applicable: 'not applicable', waived: 'waived',
  };

  function checkRow(c, full) {
    const tr = el('tr', 'st-' + c.st);
    tr.appendChild(el('td', 'st', statusLabels[c.st] || c.st));
    const what = el('td');
    if (full) {
      what.append(el('strong', '', c.t), el('br'), el('code', '', c.id), ' ');
      if (c.sv) what.appendChild(el('span', 'sev sev-' + c.sv, c.sv));
    } else {
      what.append(c.t + ' ', el('code', '', c.id));
    }
    if (c.due) what.append(' ', el('span', 'due', (full ? 'due ' : 'until ') + c.due));
    tr.appendChild(what);
    const ev = el('td', 'ev');
    (c.ev || []).forEach(([k, v]) => ev.append(el('code', '', k), ' ' + v, el('br')));
    tr.appendChild(ev);
    if (full) {
      const todo = el('td');
      if (c.r) todo.appendChild(el('p', 'why', c.r));
      if (c.w) {
        todo.appendChild(el('p', c.w.exp ? 'waiver exp' : 'waiver',
          (c.w.exp ? 'Waiver expired ' : 'Waived until ') + c.w.x + ' by ' + c.w.by + ': ' + c.w.j));
      }
      if (c.rm) todo.appendChild(el('p', '', c.rm));
      // Sources are https links from the catalog (checked when the page was
      // written); check again so nothing else can become a link.
      if (typeof c.src === 'string' && c.src.startsWith('https://')) {
        const a = el('a', '', 'Microsoft source');
        a.href = c.src;
        a.rel = 'noopener noreferrer';
        a.target = '_blank';
        todo.appendChild(a);
      } else if (c.srt) {
        todo.appendChild(el('span', 'muted', 'Source: ' + c.srt));
      }
      tr.appendChild(todo);
    } else if (c.r) {
      ev.appendChild(el('span', 'muted', c.r));
    }
    return tr;
  }

  function checkTable(list, full) {
    const t = el('table', full ? 'grid checks' : 'grid checks ok');
    if (full) {
      const hr = t.createTHead().insertRow();
      ['Status', 'Check', 'Evidence', 'What to do'].forEach((h) => {
        const th = el('th', '', h);
        th.scope = 'col';
        hr.appendChild(th);
      });
    }
    const body = t.createTBody();
    list.forEach((c) => body.appendChild(checkRow(c, full)));
    return t;
  }

  function drawCard(card) {
    const slot = card.querySelector('.checks-slot');
    if (!slot || slot.dataset.drawn) return;
    slot.textContent = '';
    if (!details) {
      slot.appendChild(el('p', 'muted', unpackError
        ? 'This browser could not unpack the check details: ' + unpackError
        : 'Unpacking the check details…'));
      return;
    }
    slot.dataset.drawn = '1';
    const d = details.hosts[Number(card.id.slice('host-'.length))] || {};
    if (d.m) slot.appendChild(el('p', 'meta', d.m));
    if (d.a) slot.append(el('h4', '', 'Needs attention'), checkTable(d.a, true));
    if (d.p) slot.append(el('h4', '', 'Passed or not applicable'), checkTable(d.p, false));
    if (d.pp) {
      const ul = el('ul');
      d.pp.forEach((p) => ul.appendChild(el('li', '', p)));
      slot.append(el('h4', '', 'Probe output problems'), ul);
    }
    if (d.e) {
      const box = el('details', 'stderr');
      box.append(el('summary', '', 'Probe error output (untrusted, as received)'), el('pre', '', d.e));
      slot.appendChild(box);
    }
  }

  const cards = Array.from(doc.querySelectorAll('details.host'));
  // toggle does not bubble: listen in the capture phase, once for all cards.
  doc.addEventListener('toggle', (e) => {
    const card = e.target;
    if (card instanceof HTMLDetailsElement && card.classList.contains('host') && card.open) drawCard(card);
  }, true);
  unpacked.then(() => cards.filter((d) => d.open).forEach(drawCard));

  function openCard(id) {
    const card = id && doc.getElementById(id);
    if (card && card.tagName === 'DETAILS') card.open = true;
  }
  window.addEventListener('hashchange', () => openCard(location.hash.slice(1)));
  openCard(location.hash.slice(1));
  $('expand-all').addEventListener('click', () => cards.forEach((d) => { if (!d.hidden) d.open = true; }));
  $('collapse-all').addEventListener('click', () => cards.forEach((d) => { d.open = false; }));

  // Printing shows the evidence of every host in view: draw and open the
  // closed cards for the print (toggle events would come too late) and
  // close them again afterwards.
  let openedForPrint = [];
  window.addEventListener('beforeprint', () => {
    openedForPrint = cards.filter((d) => !d.open && !d.hidden);
    openedForPrint.forEach((d) => { drawCard(d); d.open = true; });
  });
  window.addEventListener('afterprint', () => {
    openedForPrint.forEach((d) => { d.open = false; });
    openedForPrint = [];
  });
})();
