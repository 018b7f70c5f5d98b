/**
 * Prices recipients for one template sent from one number: the template's current category from the API, the
 * windows and volume from the store, the card's rates. Used by `wacx campaigns estimate` (rows of a stored
 * campaign) and by `wacx send --estimate` (rows of the CSV).
 */
import { UsageError, WacxError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import type { Db } from '../store/store.js';
import { findTemplateByName } from '../templates/lookup.js';
import { pricingCategory } from './categories.js';
import { type Estimate, type EstimateRecipient, estimateCost, UnsupportedDateError } from './estimate.js';
import type { RateCard } from './rate-card.js';
import { monthVolumeAt, volumeKey, windowsAt } from './store-inputs.js';

export interface PricedTemplate {
  name: string;
  language: string;
  /** Its current category, as the API gave it (MARKETING, UTILITY, AUTHENTICATION). */
  category: string;
}

export interface CampaignEstimate extends Estimate {
  template: { name: string; language: string; category: string };
}

/** The template as the API has it now: its category may have changed since it was created or last sent. */
export async function currentTemplate(
  graph: Graph,
  wabaId: string,
  name: string,
  language: string,
): Promise<PricedTemplate> {
  const t = await findTemplateByName(graph, wabaId, name, language);
  return { name: t.name, language: t.language, category: t.category };
}

export async function estimateRecipients(
  db: Db,
  target: { phoneNumberId: string | null; template: PricedTemplate },
  recipients: Iterable<EstimateRecipient>,
  card: RateCard,
  sendDate: Date,
  now: Date,
): Promise<CampaignEstimate> {
  const template = target.template;
  const category = pricingCategory(template.category);
  if (!category) {
    throw new WacxError(
      `Template "${template.name}" has the category ${template.category}, which no rate card prices.`,
    );
  }
  const at = sendDate.getTime();
  const windows = windowsAt(db, target.phoneNumberId, at);
  const volume = monthVolumeAt(db, card, at);
  try {
    const estimate = estimateCost(
      {
        card,
        category,
        sendDate,
        recipients,
        customerServiceWindows: windows.customerService,
        freeEntryPointWindows: windows.freeEntryPoint,
        monthVolume: (market, c) => volume.get(volumeKey(market, c)) ?? 0,
        windowSource: `the store's inbound messages (${windows.inbound} in the 72 h before the send date)`,
        volumeSource: "the store's delivered statuses with pricing",
      },
      now,
    );
    return {
      ...estimate,
      template: { name: template.name, language: template.language, category: template.category },
    };
  } catch (error) {
    if (error instanceof UnsupportedDateError) {
      throw new UsageError(
        `the send date is before 2025-07-01: ${error.message}, which wacx does not estimate.`,
        {
          location: '--at',
        },
      );
    }
    throw error;
  }
}
