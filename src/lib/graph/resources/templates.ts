import { ANSWERS } from '../answers.js';
import { type GraphClient, graphPath } from '../client.js';
import {
  type CreateTemplateRequest,
  type CreateTemplateResponse,
  type EditTemplateRequest,
  type EditTemplateResponse,
  type MessageTemplate,
  type SuccessResponse,
  TEMPLATE_FIELDS,
} from '../types.js';

export interface TemplateListFilter {
  name?: string;
  status?: string | readonly string[];
  category?: string | readonly string[];
  language?: string | readonly string[];
  nameOrContent?: string;
  /** `AUTO_GENERATED`: only the templates Meta generated for Direct Send (meta-cloud-api.md §15.4). */
  source?: string;
  /** Page size (Graph `limit`). */
  limit?: number;
}

/** The fields a MessageTemplate always has: asked for on every read, whatever else the caller asks for. */
const REQUIRED_FIELDS = ['id', 'name', 'language', 'status', 'category'] as const;
const withRequired = (fields: readonly string[]): string =>
  [...fields, ...REQUIRED_FIELDS.filter((f) => !fields.includes(f))].join(',');

const listParam = (v: string | readonly string[] | undefined) =>
  v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');

export class Templates {
  constructor(private readonly client: GraphClient) {}

  /** All templates matching the filter, as an async iterator over cursor pages. */
  list(
    wabaId: string,
    filter: TemplateListFilter = {},
    fields: readonly string[] = TEMPLATE_FIELDS,
  ): AsyncGenerator<MessageTemplate> {
    return this.client.paginate<MessageTemplate>({
      path: graphPath(wabaId, 'message_templates'),
      query: {
        fields: withRequired(fields),
        limit: filter.limit ?? 100,
        name: filter.name,
        status: listParam(filter.status),
        category: listParam(filter.category),
        language: listParam(filter.language),
        name_or_content: filter.nameOrContent,
        source: filter.source,
      },
      answer: ANSWERS.templatePage,
    });
  }

  get(templateId: string, fields: readonly string[] = TEMPLATE_FIELDS): Promise<MessageTemplate> {
    return this.client.request({
      method: 'GET',
      path: graphPath(templateId),
      query: { fields: withRequired(fields) },
      answer: ANSWERS.template,
    });
  }

  create(wabaId: string, template: CreateTemplateRequest): Promise<CreateTemplateResponse> {
    return this.client.request({
      method: 'POST',
      path: graphPath(wabaId, 'message_templates'),
      body: template,
      answer: ANSWERS.createTemplate,
    });
  }

  edit(templateId: string, changes: EditTemplateRequest): Promise<EditTemplateResponse> {
    return this.client.request({
      method: 'POST',
      path: graphPath(templateId),
      body: changes,
      answer: ANSWERS.editTemplate,
    });
  }

  /** Deletes every language of `name`, or only `hsmId` when given. */
  delete(wabaId: string, name: string, hsmId?: string): Promise<SuccessResponse> {
    return this.client.request<SuccessResponse>({
      method: 'DELETE',
      path: graphPath(wabaId, 'message_templates'),
      query: { name, hsm_id: hsmId },
    });
  }
}
