// The poster editor. Talks only to the server that served it:
//   GET  /api/templates          the poster kinds
//   GET  /api/templates/NAME     one kind's fields and their standard values
//   POST /api/preview            form -> {ok, image, problems}
//   POST /api/poster             form -> the PDF or PNG file
//   POST /api/batch?template=... a CSV -> a print run; GET /api/batch/ID
//                                for its progress, then its PDF and manifest
//   POST /api/profile?template=  a saved settings file (an agency profile,
//                                YAML) -> the values it gives the boxes
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  templates: [],
  tmpl: null,       // the chosen template's details
  values: {},       // what each box holds, kept across poster kinds
  touched: {},      // boxes the user (or opened settings) filled in: only
                    // these are sent; the rest follow the template's
                    // defaults, which may depend on another box
  defaults: {},     // each box's default for the values as they stand
  fromProfile: {},  // boxes holding an opened settings file's value, not
                    // changed since: a print run puts them under the CSV
  profile: {},      // the opened settings, every key (saved back as read)
  profileName: 'agency-settings.yaml',
  timer: null,
  inflight: null,   // AbortController of the running preview
  seq: 0,
  version: 0,       // previews shown so far (tests watch data-version)
};
const DEBOUNCE_MS = 350;
// Shown in the preview while a required box is still empty.
const EXAMPLES = { code: 'EXAMPLE-1', name: 'Your location name' };

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) e.setAttribute(k, v);
  }
  if (text !== undefined) e.textContent = text;
  return e;
}

// A label from the description's first phrase ("Location code; it goes
// into ..." -> "Location code"); the whole description is the hint.
function describe(v) {
  const d = (v.description || '').trim();
  if (!d) {
    const words = v.name.replace(/_/g, ' ');
    return { label: words.charAt(0).toUpperCase() + words.slice(1), hint: '' };
  }
  const label = d.split(/[;,(]/)[0].trim() || d;
  if (label === d) return { label, hint: '' };
  return { label, hint: d.charAt(0).toUpperCase() + d.slice(1).replace(/\.$/, '') };
}

// A menu entry for a choice: a language tag reads as its name
// ("ar" -> "Arabic (ar)"), anything else as given.
function choiceLabel(v, c) {
  if (/(^|_)lang/.test(v.name) && typeof Intl.DisplayNames === 'function') {
    try {
      const n = new Intl.DisplayNames(['en'], { type: 'language' }).of(c);
      if (n && n !== c) return `${n} (${c})`;
    } catch (e) { /* not a language tag: show it as it is */ }
  }
  return c;
}

async function getJSON(url) {
  const r = await fetch(url, { cache: 'no-store' });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
}

function setStatus(id, text, bad) {
  const s = $(id);
  s.textContent = text;
  s.classList.toggle('bad', !!bad);
}

async function loadTemplates() {
  const data = await getJSON('/api/templates');
  state.templates = data.templates;
  const sel = $('template');
  sel.textContent = '';
  for (const t of data.templates) {
    sel.append(el('option', { value: t.name }, t.title));
  }
  // The restroom poster is the one most people start from.
  if (data.templates.some((t) => t.name === 'restroom-letter')) sel.value = 'restroom-letter';
  if (data.batch) {
    state.maxCsv = data.max_csv_bytes;
    $('batch').hidden = false;
  }
  if (data.templates.length === 0) {
    setStatus('preview-status', 'No poster templates were found on the server.', true);
    return;
  }
  await chooseTemplate(sel.value);
}

function fmtSize(t) {
  const n = (x) => String(Math.round(x * 100) / 100);
  return `${n(t.width_in)} × ${n(t.height_in)} in`;
}

async function chooseTemplate(name) {
  const t = await getJSON('/api/templates/' + encodeURIComponent(name));
  state.tmpl = t;
  $('template-hint').textContent = [t.description, `Page size ${fmtSize(t)}.`]
    .filter(Boolean).join(' ');
  buildFields(t);
  schedulePreview(0);
}

function buildFields(t) {
  const loc = $('location-list');
  const txt = $('text-list');
  loc.textContent = '';
  txt.textContent = '';
  for (const v of t.variables) {
    const { label, hint } = describe(v);
    const id = 'f-' + v.name;
    const wrap = el('div', { class: 'field' });
    const lab = el('label', { for: id }, label);
    if (v.required) lab.append(' ', el('span', { class: 'required-mark' }, '(required)'));
    const std = () => (v.name in state.defaults ? state.defaults[v.name] : v.default);
    wrap.append(lab);
    const common = {
      id, name: 'var.' + v.name,
      'aria-describedby': `${id}-hint ${id}-error`,
      'aria-required': v.required ? 'true' : null,
      'data-var': v.name,
    };
    if (!(v.name in state.values) || !state.touched[v.name]) state.values[v.name] = std() || '';
    let input;
    if (v.choices && v.choices.length) {
      // A variable with a fixed set of values is a menu, not free text.
      input = el('select', common);
      if (v.needed) input.append(el('option', { value: '' }, 'Choose…'));
      for (const c of v.choices) input.append(el('option', { value: c }, choiceLabel(v, c)));
      if (!v.choices.includes(state.values[v.name])) state.values[v.name] = v.default || '';
    } else {
      input = el('input', { ...common, type: 'text', autocomplete: 'off',
        spellcheck: v.name === 'name' ? 'true' : 'false' });
    }
    input.value = state.values[v.name];
    const row = el('div', { class: 'field-row' });
    row.append(input);
    let reset = null;
    if (v.default !== null) {
      reset = el('button', { type: 'button', class: 'reset',
        'aria-label': `Use standard ${label.toLowerCase()}` }, 'Use standard');
      reset.addEventListener('click', () => {
        input.value = std() || '';
        onInput(v.name, input.value, reset);
        state.touched[v.name] = false;
        delete state.profile[v.name];
        reset.hidden = true;
        input.focus();
      });
      reset.hidden = !state.touched[v.name];
      row.append(reset);
    }
    wrap.append(row);
    const hints = [];
    if (hint) hints.push(hint + '.');
    if (v.default !== null) {
      hints.push(v.default_when
        ? `Standard when ${v.default_when}: ${v.default || '(empty)'}; otherwise none.`
        : `Standard: ${v.default || '(empty)'}`);
    }
    if (v.needed && EXAMPLES[v.name]) hints.push(`For example: ${v.name === 'code' ? 'NYP-R1' : 'New York Penn Station, restroom 1'}`);
    wrap.append(el('p', { class: 'hint', id: `${id}-hint` }, hints.join(' ')));
    wrap.append(el('p', { class: 'field-error', id: `${id}-error` }));
    input.addEventListener(input.tagName === 'SELECT' ? 'change' : 'input',
      () => onInput(v.name, input.value, reset));
    // The boxes every poster needs filled in are where the poster goes.
    (v.needed ? loc : txt).append(wrap);
  }
  $('location-fields').hidden = loc.childElementCount === 0;
  $('text-fields').hidden = txt.childElementCount === 0;
}

function onInput(name, value, reset) {
  state.values[name] = value;
  state.touched[name] = true;
  state.fromProfile[name] = false;
  if (reset) reset.hidden = false;
  setFieldError(name, '');
  if ($('download-status').classList.contains('bad')) setStatus('download-status', '');
  if ($('settings-status').classList.contains('bad')) setStatus('settings-status', '');
  schedulePreview(DEBOUNCE_MS);
}

// A message beside a box: an error marks the box invalid; a warning
// (a value the poster does not print, say) is shown in the warning
// colour and leaves the box valid, since nothing has to change.
function setFieldError(name, msg, severity = 'error') {
  const input = $('f-' + name);
  const err = $(`f-${name}-error`);
  if (!input || !err) return;
  err.textContent = msg;
  err.classList.toggle('warning', Boolean(msg) && severity !== 'error');
  if (msg && severity === 'error') input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function clearFieldErrors() {
  for (const v of state.tmpl ? state.tmpl.variables : []) setFieldError(v.name, '');
}

// The form as sent to the server: the boxes every poster needs (the
// location), and those the user filled in (an emptied one too: the
// server says whether it may be empty). The others are left to the
// template, whose defaults may depend on another box (the national text
// number goes with the national number). For the preview, empty location
// boxes get an example so the poster can be seen before it is complete.
function formBody(extra, forPreview) {
  const p = new URLSearchParams();
  p.set('template', state.tmpl.name);
  const missing = [];
  for (const v of state.tmpl.variables) {
    let val = state.values[v.name] ?? '';
    if (v.needed && val.trim() === '') {
      missing.push(v);
      if (forPreview) val = EXAMPLES[v.name] || v.name.toUpperCase();
    }
    if (v.needed || state.touched[v.name]) p.set('var.' + v.name, val);
  }
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  return { body: p, missing };
}

function schedulePreview(delay) {
  clearTimeout(state.timer);
  state.timer = setTimeout(updatePreview, delay);
}

async function updatePreview() {
  if (!state.tmpl) return;
  if (state.inflight) state.inflight.abort();
  const ctl = new AbortController();
  state.inflight = ctl;
  const seq = ++state.seq;
  const { body, missing } = formBody({}, true);
  const img = $('preview');
  img.classList.add('stale');
  setStatus('preview-status', 'Updating the preview…');
  let r, data;
  try {
    r = await fetch('/api/preview', { method: 'POST', body, signal: ctl.signal });
    data = await r.json().catch(() => ({}));
  } catch (e) {
    if (e.name === 'AbortError') return;
    setStatus('preview-status', 'The editor cannot reach qrposter. Is it still running?', true);
    return;
  }
  if (seq !== state.seq) return;   // a newer preview is on its way
  state.inflight = null;
  clearFieldErrors();
  if (data.defaults) showDefaults(data.defaults);
  if (r.ok && data.ok) {
    img.src = data.image;
    img.width = data.width;
    img.height = data.height;
    const name = state.values.name || 'an example location';
    img.alt = `Preview of the ${state.tmpl.title} for ${name}`;
    img.classList.remove('stale');
    state.version++;
    img.dataset.version = String(state.version);
    setStatus('preview-status', missing.length
      ? 'Preview with example values in the empty boxes.'
      : 'Preview up to date: this is what will be printed.');
    showChecks(data.problems || [], missing);
  } else if (r.status === 422) {
    setStatus('preview-status', 'The poster cannot be made as it stands: see the checks below.', true);
    showChecks(data.problems || [], missing);
  } else {
    setStatus('preview-status', data.error || `The server answered ${r.status}.`, true);
  }
}

// A box the user has not filled in shows the default as it stands now.
function showDefaults(defaults) {
  state.defaults = defaults;
  for (const v of state.tmpl.variables) {
    if (state.touched[v.name] || v.needed) continue;
    const input = $('f-' + v.name);
    const val = defaults[v.name] ?? '';
    state.values[v.name] = val;
    if (input && input.value !== val) input.value = val;
  }
}

function fieldLabel(name) {
  const v = state.tmpl.variables.find((x) => x.name === name);
  return v ? describe(v).label : name;
}

function showChecks(problems, missing) {
  const box = $('checks');
  box.textContent = '';
  for (const p of problems) {
    for (const f of p.fields) setFieldError(f, p.message, p.severity);
  }
  if (problems.length === 0 && missing.length === 0) {
    box.append(el('p', { class: 'good' }, 'No problems found: the texts fit, the QR code is large enough to scan, and every letter can be printed.'));
    return;
  }
  const ul = el('ul');
  for (const v of missing) {
    const li = el('li', { class: 'warning' });
    li.append(`Fill in “${describe(v).label}” before downloading. `);
    li.append(fieldLink(v.name, 'Go to the box'));
    ul.append(li);
  }
  for (const p of problems) {
    const li = el('li', { class: p.severity === 'error' ? 'error' : 'warning' });
    const where = p.fields.length ? p.fields.map(fieldLabel).join(', ') + ': ' : '';
    li.append(el('strong', {}, p.severity === 'error' ? 'Problem: ' : 'Warning: '), where + p.message + ' ');
    if (p.fields.length) li.append(fieldLink(p.fields[0], 'Go to the box'));
    if (p.detail) {
      const d = el('details');
      // The finding's code names the check (templates/CHECKS.md).
      d.append(el('summary', {}, p.code ? `Technical detail (${p.code})` : 'Technical detail'), el('p', {}, p.detail));
      li.append(d);
    }
    ul.append(li);
  }
  box.append(ul);
}

function fieldLink(name, text) {
  const b = el('button', { type: 'button', class: 'reset' }, text);
  b.addEventListener('click', () => { const i = $('f-' + name); if (i) i.focus(); });
  return b;
}

function filenameOf(r, fallback) {
  const cd = r.headers.get('Content-Disposition') || '';
  const m = cd.match(/filename="([^"]+)"/);
  return m ? m[1] : fallback;
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function download(format) {
  if (!state.tmpl) return;
  const { body, missing } = formBody({ format, dpi: $('dpi').value }, false);
  if (missing.length) {
    for (const v of missing) setFieldError(v.name, 'Fill this in: every poster needs it.');
    setStatus('download-status', `Fill in ${missing.map((v) => '“' + describe(v).label + '”').join(' and ')} first.`, true);
    $('f-' + missing[0].name).focus();
    return;
  }
  const buttons = [$('download-pdf'), $('download-png')];
  if (state.downloading) return;
  state.downloading = true;
  buttons.forEach((b) => b.setAttribute('aria-disabled', 'true'));
  setStatus('download-status', `Making the ${format.toUpperCase()}…`);
  try {
    const r = await fetch('/api/poster', { method: 'POST', body });
    if (!r.ok) {
      const data = await r.json().catch(() => ({}));
      if (data.problems) showChecks(data.problems, []);
      setStatus('download-status', data.error || `The server answered ${r.status}.`, true);
      return;
    }
    const blob = await r.blob();
    const name = filenameOf(r, 'poster.' + format);
    saveBlob(blob, name);
    setStatus('download-status', `Downloaded ${name} (${Math.max(1, Math.round(blob.size / 1024))} KB).`);
  } catch (e) {
    setStatus('download-status', 'The editor cannot reach qrposter. Is it still running?', true);
  } finally {
    state.downloading = false;
    buttons.forEach((b) => b.removeAttribute('aria-disabled'));
  }
}

// ---- print runs --------------------------------------------------------

async function startBatch() {
  const file = $('csv-file').files[0];
  if (!file) {
    setStatus('batch-status', 'Choose a CSV file first.', true);
    $('csv-file').focus();
    return;
  }
  if (state.maxCsv && file.size > state.maxCsv) {
    setStatus('batch-status', `The file is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${Math.round(state.maxCsv / 1048576)} MB. Split it into smaller print runs.`, true);
    return;
  }
  const p = new URLSearchParams();
  p.set('template', state.tmpl.name);
  // As batch --profile does: the CSV's column wins over the opened
  // settings, a box typed here wins over the CSV.
  for (const v of state.tmpl.variables) {
    const val = state.values[v.name];
    if (v.needed || !state.touched[v.name] || val === undefined) continue;
    p.set((state.fromProfile[v.name] ? 'profile.' : 'var.') + v.name, val);
  }
  $('batch-errors').textContent = '';
  $('batch-links').hidden = true;
  $('batch-start').disabled = true;
  setStatus('batch-status', 'Uploading…');
  let r, data;
  try {
    r = await fetch('/api/batch?' + p, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: file });
    data = await r.json().catch(() => ({}));
  } catch (e) {
    setStatus('batch-status', 'The editor cannot reach qrposter. Is it still running?', true);
    $('batch-start').disabled = false;
    return;
  }
  if (!r.ok) {
    setStatus('batch-status', data.error || `The server answered ${r.status}.`, true);
    $('batch-start').disabled = false;
    return;
  }
  $('batch-cancel').hidden = false;
  $('batch-cancel').onclick = () => fetch(`/api/batch/${data.id}/cancel`, { method: 'POST' });
  const bar = $('batch-progress');
  bar.hidden = false;
  bar.value = 0;
  for (;;) {
    await new Promise((res) => setTimeout(res, 400));
    let st;
    try {
      st = await getJSON(`/api/batch/${data.id}`);
    } catch (e) {
      setStatus('batch-status', e.message, true);
      break;
    }
    bar.max = Math.max(1, st.total);
    bar.value = st.done;
    if (st.state === 'running') {
      const what = st.phase === 'checking' ? 'Checking every location' : 'Making the posters';
      setStatus('batch-status', `${what}: ${st.done} of ${st.total}…`);
      continue;
    }
    const list = $('batch-errors');
    for (const m of st.row_errors) list.append(el('li', {}, m));
    if (st.more_row_errors) list.append(el('li', {}, `…and ${st.more_row_errors} more.`));
    if (st.state === 'done') {
      $('batch-pdf').href = st.pdf;
      $('batch-manifest').href = st.manifest;
      $('batch-links').hidden = false;
      setStatus('batch-status', `Done: ${st.rows} posters in one PDF. Download it below.`);
    } else {
      setStatus('batch-status', st.state === 'failed'
        ? `Nothing was printed: ${st.error}. Fix the rows listed and try again.`
        : `Stopped: ${st.error}.`, true);
    }
    break;
  }
  bar.hidden = true;
  $('batch-cancel').hidden = true;
  $('batch-start').disabled = false;
}

// ---- settings (agency profiles) -------------------------------------------

// The keys of a profile (src/profile.h), in the order they are written.
const PROFILE_KEYS = ['agency', 'hotline_name', 'hotline', 'text_number',
  'text_keyword', 'report_url', 'hotline_languages', 'logo'];

// A YAML scalar: a JSON string is a YAML double-quoted one.
const yamlStr = (s) => JSON.stringify(String(s));

// The profile the boxes make: the ones filled in here (the location's
// boxes are not settings), over the keys of the settings opened, which
// are kept even when this poster has no box for them.
function settingsYaml() {
  const top = {};
  const values = {};
  for (const [k, v] of Object.entries(state.profile)) {
    if (PROFILE_KEYS.includes(k)) top[k] = v; else values[k] = v;
  }
  for (const v of state.tmpl.variables) {
    if (v.needed || !state.touched[v.name]) continue;
    const val = state.values[v.name] ?? '';
    const to = PROFILE_KEYS.includes(v.name) ? top : values;
    if (val === '') delete to[v.name]; else to[v.name] = val;
  }
  const lines = ['# qrposter agency profile (templates/README.md), saved by the poster editor',
    'profile: 1'];
  for (const k of PROFILE_KEYS) if (k in top) lines.push(`${k}: ${yamlStr(top[k])}`);
  const rest = Object.keys(values);
  if (rest.length) {
    lines.push('values:');
    for (const k of rest) lines.push(`  ${k}: ${yamlStr(values[k])}`);
  }
  return { text: lines.join('\n') + '\n', count: Object.keys(top).length + rest.length };
}

function saveSettings() {
  if (!state.tmpl) return;
  const { text, count } = settingsYaml();
  if (count === 0) {
    setStatus('settings-status', 'Nothing to save yet: every box holds its standard value.', true);
    return;
  }
  saveBlob(new Blob([text], { type: 'text/yaml' }), state.profileName);
  setStatus('settings-status', `Saved ${count} setting${count === 1 ? '' : 's'} as ${state.profileName}.`);
}

async function openSettings(file) {
  if (!file || !state.tmpl) return;
  const q = new URLSearchParams({ template: state.tmpl.name, name: file.name });
  let r, data;
  try {
    r = await fetch('/api/profile?' + q, { method: 'POST', body: await file.text() });
    data = await r.json().catch(() => ({}));
  } catch (e) {
    setStatus('settings-status', 'The editor cannot reach qrposter. Is it still running?', true);
    return;
  }
  clearFieldErrors();
  if (!r.ok || !data.ok) {
    setStatus('settings-status', `These settings cannot be used: ${data.error || r.statusText}`, true);
    for (const p of data.problems || []) for (const f of p.fields) setFieldError(f, p.message);
    return;
  }
  state.profile = data.profile || {};
  state.profileName = file.name;
  let n = 0;
  for (const [k, v] of Object.entries(data.values || {})) {
    const input = $('f-' + k);
    state.values[k] = v;
    state.touched[k] = true;
    state.fromProfile[k] = true;
    if (input) {
      input.value = v;
      const reset = input.parentElement.querySelector('.reset');
      if (reset) reset.hidden = false;
    }
    n++;
  }
  const unused = (data.problems || []).filter((p) => p.code === 'profile-unused').length;
  setStatus('settings-status', `Opened ${file.name}: ${n} box${n === 1 ? '' : 'es'} filled in` +
    (unused ? `; ${unused} setting${unused === 1 ? ' is' : 's are'} not used by this poster.` : '.'));
  schedulePreview(0);
}

document.addEventListener('DOMContentLoaded', () => {
  $('template').addEventListener('change', (e) => {
    chooseTemplate(e.target.value).catch((err) => setStatus('preview-status', err.message, true));
  });
  $('download-pdf').addEventListener('click', () => download('pdf'));
  $('download-png').addEventListener('click', () => download('png'));
  $('batch-start').addEventListener('click', () => startBatch());
  $('settings-save').addEventListener('click', () => saveSettings());
  $('settings-file').addEventListener('change', (e) => {
    openSettings(e.target.files[0]).finally(() => { e.target.value = ''; });
  });
  // Enter in a box refreshes the preview at once rather than submitting.
  $('poster-form').addEventListener('submit', (e) => { e.preventDefault(); schedulePreview(0); });
  loadTemplates().catch((err) => setStatus('preview-status', err.message, true));
});
