// The playground page: controls, live plot, runs table, samples, downloads,
// and `window.__vwn`, the hook the browser test drives.
import corpusText from '@vwn/datasets/tinyshakespeare.txt?raw';
import { selectBackend, type BackendInfo, type BackendRequest } from './backend.js';
import { renderLossPlot, shortNumber } from './plot.js';
import { embeddedCorpus, Session, type PlaygroundRun } from './session.js';
import { checkpointBytes, checkpointFileName } from './checkpoint.js';
import { SIZES, VARIANTS, type Selection } from './variants.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const corpus = embeddedCorpus(corpusText);
let backend: BackendInfo | null = null;
let session = new Session(corpus, { onUpdate: () => scheduleRender() });

// ---- controls -------------------------------------------------------------

$('variants').innerHTML = VARIANTS.map(
  (v) => `<label><input type="checkbox" name="variant" value="${v.id}" ${v.id !== 'vwn-r2' ? 'checked' : ''}/> ${esc(v.label)}</label>`,
).join('');
$<HTMLSelectElement>('size').innerHTML = SIZES.map((s) => `<option value="${s.id}">${esc(s.label)}</option>`).join('');
const params = new URLSearchParams(location.search);
$<HTMLSelectElement>('size').value = SIZES.some((s) => s.id === params.get('size')) ? params.get('size')! : 'small';

function sizeChanged(): void {
  const size = SIZES.find((s) => s.id === $<HTMLSelectElement>('size').value)!;
  $<HTMLInputElement>('steps').value = String(size.steps);
  budgetText();
}
function budgetText(): void {
  const size = SIZES.find((s) => s.id === $<HTMLSelectElement>('size').value)!;
  const steps = Number($<HTMLInputElement>('steps').value) || size.steps;
  $('budget').textContent = `${size.batchSize} × ${size.seqLen} tokens per step: ${shortNumber(steps * size.batchSize * size.seqLen)} tokens per run`;
}
$('size').addEventListener('change', sizeChanged);
$('steps').addEventListener('input', budgetText);
sizeChanged();

function selections(): Selection[] {
  const checked = [...document.querySelectorAll<HTMLInputElement>('input[name=variant]:checked')].map((i) => i.value);
  const steps = Math.max(1, Math.floor(Number($<HTMLInputElement>('steps').value) || 1));
  return checked.map((variant) => ({
    variant,
    size: $<HTMLSelectElement>('size').value,
    mtp: $<HTMLInputElement>('mtp').checked,
    moe: $<HTMLSelectElement>('ffn').value === 'moe',
    steps,
  }));
}

function setBusy(busy: boolean): void {
  $<HTMLButtonElement>('train').disabled = busy || !backend;
  $<HTMLButtonElement>('stop').disabled = !busy;
  $<HTMLButtonElement>('clear').disabled = busy || session.runs.length === 0;
}

async function train(sel: Selection[], order: 'sequential' | 'interleaved'): Promise<PlaygroundRun[]> {
  const runs = sel.map((s) => session.add(s));
  setBusy(true);
  render();
  try {
    await session.train(order);
  } finally {
    setBusy(false);
    render();
  }
  return runs;
}

$('train').addEventListener('click', () => {
  const sel = selections();
  if (sel.length === 0) return;
  void train(sel, $<HTMLSelectElement>('order').value as 'sequential' | 'interleaved');
});
$('stop').addEventListener('click', () => session.stop());
$('clear').addEventListener('click', () => {
  session.dispose();
  session = new Session(corpus, { onUpdate: () => scheduleRender() });
  setBusy(false);
  render();
});

// ---- rendering --------------------------------------------------------------

let pending = false;
function scheduleRender(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

function render(): void {
  const runs = session.runs.filter((r) => r.status !== 'queued' || r.records.length > 0);
  $('plot').innerHTML = renderLossPlot(
    runs.map((r) => ({
      label: r.label,
      color: r.color,
      train: r.records.map((x) => [x.tokens, x.loss] as const),
      eval: r.evals.map((x) => [x.tokens, x.loss] as const),
    })),
  );
  const body = $('runs').querySelector('tbody')!;
  body.innerHTML = session.runs
    .map((r) => {
      const last = r.records.at(-1);
      const ev = r.evals.at(-1);
      const canUse = r.trainer !== null && r.status !== 'training';
      return `<tr data-run="${r.id}" data-status="${r.status}">
        <td><span class="swatch" style="background:${r.color}"></span></td>
        <td>${esc(r.label)}</td>
        <td class="num">${r.params ? shortNumber(r.params) : ''}</td>
        <td class="num">${last?.step ?? 0} / ${r.steps}</td>
        <td class="num">${shortNumber(last?.tokens ?? 0)}</td>
        <td class="num">${last ? last.loss.toFixed(3) : ''}</td>
        <td class="num">${ev ? ev.loss.toFixed(3) : ''}</td>
        <td class="num">${r.tokensPerSecond ? Math.round(r.tokensPerSecond).toLocaleString('en-US') : ''}</td>
        <td>${r.status}${r.error ? ` <span class="error">${esc(r.error)}</span>` : ''}</td>
        <td><button type="button" data-action="sample" ${canUse ? '' : 'disabled'}>Sample</button>
            <button type="button" data-action="download" ${canUse ? '' : 'disabled'}>Download checkpoint</button></td>
      </tr>`;
    })
    .join('');
  $('samples').innerHTML = session.runs
    .filter((r) => r.sample !== null)
    .map(
      (r) =>
        `<div class="sample" style="border-color:${r.color}"><strong>${esc(r.label)}</strong> (step ${r.trainer?.step ?? 0})<pre data-run="${r.id}"><b>${esc(r.samplePrompt)}</b>${esc(r.sample!)}</pre></div>`,
    )
    .join('');
}

$('runs').addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest('button');
  const row = button?.closest('tr');
  if (!button || !row) return;
  const run = session.runs[Number(row.dataset['run'])];
  if (!run) return;
  if (button.dataset['action'] === 'sample') void session.sample(run, $<HTMLInputElement>('prompt').value || '\n');
  if (button.dataset['action'] === 'download') void download(run);
});

async function download(run: PlaygroundRun): Promise<void> {
  const bytes = await checkpointBytes(run);
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = checkpointFileName(run);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

render();

// ---- start-up and the test hook ----------------------------------------------

const request = (params.get('backend') ?? 'auto') as BackendRequest;
const ready = selectBackend(request).then(
  (info) => {
    backend = info;
    const el = $('backend');
    el.dataset['state'] = info.backend === 'webgpu' ? 'webgpu' : 'wasm';
    el.textContent = `backend: ${info.note}` + (info.webgpuSkipped && request === 'auto' ? ` (no WebGPU: ${info.webgpuSkipped})` : '');
    setBusy(false);
    return info;
  },
  (e: Error) => {
    const el = $('backend');
    el.dataset['state'] = 'error';
    el.textContent = `backend failed: ${e.message}`;
    throw e;
  },
);

/** What `window.__vwn` offers the browser test (and the curious console user). */
export interface PlaygroundHook {
  /** Resolves with the backend once it is selected. */
  readonly ready: Promise<BackendInfo>;
  readonly session: () => Session;
  /** Queues the selections and trains them (as the Train button does); resolves with run summaries. */
  train(
    sel: Selection[],
    order?: 'sequential' | 'interleaved',
  ): Promise<
    Array<{ id: number; label: string; status: string; error: string | null; losses: number[]; evals: number[]; tokensPerSecond: number; params: number }>
  >;
  sample(runId: number, prompt: string, maxTokens?: number): Promise<string>;
  probeLogits(runId: number, length?: number): Promise<{ ids: number[]; logits: number[]; shape: number[] }>;
}

const hook: PlaygroundHook = {
  ready,
  session: () => session,
  async train(sel, order = 'sequential') {
    await ready;
    const runs = await train(sel, order);
    return runs.map((r) => ({
      id: r.id,
      label: r.label,
      status: r.status,
      error: r.error,
      losses: r.records.map((x) => x.loss),
      evals: r.evals.map((x) => x.loss),
      tokensPerSecond: r.tokensPerSecond,
      params: r.params,
    }));
  },
  sample: (runId, prompt, maxTokens = 64) => session.sample(session.runs[runId]!, prompt, maxTokens),
  async probeLogits(runId, length) {
    const p = await session.probeLogits(session.runs[runId]!, length);
    return { ids: p.ids, logits: Array.from(p.logits), shape: p.shape };
  },
};
(window as unknown as { __vwn: PlaygroundHook }).__vwn = hook;
