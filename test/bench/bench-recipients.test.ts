import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isValidInss } from '../../src/domain/identifiers/inss';
import { benchRecipientInss } from '../../bench/lib/signed-requests';

describe('benchmark recipients', () => {
  it('are valid INSS numbers, all different over a long run, none of them a simulator exception', () => {
    const profiles = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'ebox-profiles.json'), 'utf8'),
    ) as { citizens: Record<string, unknown> };
    const exceptions = new Set(Object.keys(profiles.citizens));
    expect(exceptions.size).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (let index = 0; index < 50_000; index += 1) {
      const inss = benchRecipientInss(index);
      expect(isValidInss(inss)).toBe(true);
      expect(exceptions.has(inss)).toBe(false);
      seen.add(inss);
    }
    expect(seen.size).toBe(50_000);
  });
});
