/**
 * The tick part reads the measured sidecar back from bench/results/latest.json through sidecarPerGroupPerMinute:
 * the steady figures when the sidecar part has run, undefined otherwise (the tick part then keeps its assumption).
 */
import { describe, expect, it } from 'vitest';
import { sidecarPerGroupPerMinute } from '../../../bench/parts/sidecar.js';

const measured = { processes: 2, cpuSeconds: 1.31, calls: 2, containers: 1, peakRssMb: 57.9 };

describe('sidecarPerGroupPerMinute', () => {
  it("reads the sidecar part's steady figures from latest.json", () => {
    const latest = {
      updatedAt: '2026-12-01T00:00:00.000Z',
      parts: {
        tick: { sizes: [] },
        sidecar: {
          ok: true,
          perGroupPerMinute: measured,
          perGroupPerMinuteWhenWriting: { ...measured, processes: 3, calls: 3, cpuSeconds: 1.9 },
        },
      },
    };
    expect(sidecarPerGroupPerMinute(latest)).toEqual(measured);
  });

  it('leaves out anything else the part wrote beside the five figures', () => {
    const latest = { parts: { sidecar: { perGroupPerMinute: { ...measured, note: 'extra' } } } };
    expect(sidecarPerGroupPerMinute(latest)).toEqual(measured);
  });

  it('is undefined when the sidecar part has not run, saw a wrong outcome or its figures are incomplete', () => {
    expect(sidecarPerGroupPerMinute(undefined)).toBeUndefined();
    expect(sidecarPerGroupPerMinute({})).toBeUndefined();
    expect(sidecarPerGroupPerMinute({ parts: { tick: {} } })).toBeUndefined();
    expect(
      sidecarPerGroupPerMinute({ parts: { sidecar: { ok: false, perGroupPerMinute: measured } } }),
    ).toBeUndefined();
    const { peakRssMb: _dropped, ...withoutRss } = measured;
    expect(
      sidecarPerGroupPerMinute({ parts: { sidecar: { perGroupPerMinute: withoutRss } } }),
    ).toBeUndefined();
    const notANumber = { ...measured, cpuSeconds: 'NaN' };
    expect(
      sidecarPerGroupPerMinute({ parts: { sidecar: { perGroupPerMinute: notANumber } } }),
    ).toBeUndefined();
  });
});
