/**
 * Meta's charging rules by date (reference §15.2): per delivered message since 2025-07-01, by category and the
 * recipient's country. What is free changed on 2026-10-01: utility templates inside an open customer service window
 * and service messages are billed since; only the 72-hour free entry point window stays free.
 */
import type { PricingCategory } from './categories.js';

export type Regime = 'per-message' | 'per-message-2026-10';

export const PER_MESSAGE_START = '2025-07-01';
export const IN_WINDOW_BILLED_FROM = '2026-10-01';

/** The rules in force on `date` (UTC day); null before per-message pricing, which wacx does not estimate. */
export function regimeOn(date: Date): Regime | null {
  const day = date.toISOString().slice(0, 10);
  if (day < PER_MESSAGE_START) return null;
  return day < IN_WINDOW_BILLED_FROM ? 'per-message' : 'per-message-2026-10';
}

export type Charge = 'billed' | 'free_entry_point' | 'free_customer_service';

export interface Windows {
  /** The recipient wrote in the last 24 hours: a customer service window is open. */
  customerService: boolean;
  /** A free entry point window (72 h after a click-to-WhatsApp ad or Page button reply) is open. */
  freeEntryPoint: boolean;
}

/** Whether one delivered message of `category` is billed under `regime`, and if not, why. */
export function chargeFor(regime: Regime, category: PricingCategory, windows: Windows): Charge {
  if (windows.freeEntryPoint) return 'free_entry_point';
  if (
    regime === 'per-message' &&
    windows.customerService &&
    (category === 'utility' || category === 'service')
  ) {
    return 'free_customer_service';
  }
  return 'billed';
}
