import { describe, expect, it } from 'vitest';
import { EMBEDDED_CORPORA, embeddedCorpusPath, loadEmbeddedCorpus } from '@vwn/datasets';

describe('@vwn/datasets', () => {
  it('ships tiny Shakespeare with its known size and opening', async () => {
    const text = await loadEmbeddedCorpus('tinyshakespeare');
    expect(text.length).toBe(1115394);
    expect(text.startsWith('First Citizen:\nBefore we proceed any further, hear me speak.')).toBe(true);
    expect(EMBEDDED_CORPORA).toContain('tinyshakespeare');
  });
  it('rejects an unknown corpus naming the allowed ones', () => {
    expect(() => embeddedCorpusPath('nope' as never)).toThrow(/allowed: "tinyshakespeare"/);
  });
});
