/** Graph routing: `/{version}/{id}/{edge}` like graph.facebook.com. */
import type { Ctx, Result, SandboxCore } from './core.js';
import { unknownObject, unknownPath } from './errors.js';
import {
  appSubscriptions,
  businessWabas,
  deregister,
  getApp,
  getBusiness,
  getPhone,
  getWaba,
  listPhoneNumbers,
  me,
  postPhone,
  register,
  smbAppData,
  subscribedApps,
} from './routes-accounts.js';
import { deleteMedia, getMedia, mediaOf } from './routes-media.js';
import { sendMessage } from './routes-messages.js';
import { accessToken, debugToken, dialog } from './routes-oauth.js';
import {
  createTemplate,
  deleteTemplates,
  editTemplate,
  getTemplateNode,
  listTemplates,
} from './routes-templates.js';
import { SEED } from './seed.js';

export function graphRouter(core: SandboxCore, ctx: Ctx): Result | Promise<Result> {
  const segs = ctx.req.segments;
  const method = ctx.req.method;
  const id = segs[1];
  const edge = segs[2];
  if (id === undefined) throw unknownPath(ctx.req.pathname);
  const extra = segs.length > 3;

  // hot path first
  if ((edge === 'messages' || edge === 'marketing_messages') && method === 'POST' && !extra) {
    const n = core.numberOf(id);
    if (n) return sendMessage(core, ctx, n, edge);
  }

  if (id === 'oauth' && edge === 'access_token' && !extra) return accessToken(core, ctx);
  if (id === 'dialog' && edge === 'oauth' && !extra && method === 'GET') return dialog(core, ctx);
  if (id === 'debug_token' && edge === undefined && method === 'GET') return debugToken(core, ctx);
  if (id === 'me' && edge === undefined && method === 'GET') return me(core, ctx);
  if (extra) throw unknownPath(ctx.req.pathname);

  if (id === SEED.app.id) {
    if (edge === undefined && method === 'GET') return getApp(core, ctx);
    if (edge === 'subscriptions') return appSubscriptions(core, ctx);
    throw unknownPath(ctx.req.pathname);
  }
  if (id === SEED.businessId) {
    if (edge === undefined && method === 'GET') return getBusiness(core, ctx);
    if (
      (edge === 'owned_whatsapp_business_accounts' || edge === 'client_whatsapp_business_accounts') &&
      method === 'GET'
    ) {
      return businessWabas(core, ctx);
    }
    throw unknownPath(ctx.req.pathname);
  }
  if (id === SEED.waba.id) {
    if (edge === undefined && method === 'GET') return getWaba(core, ctx);
    if (edge === 'phone_numbers' && method === 'GET') return listPhoneNumbers(core, ctx);
    if (edge === 'subscribed_apps') return subscribedApps(core, ctx);
    if (edge === 'message_templates') {
      if (method === 'GET') return listTemplates(core, ctx);
      if (method === 'POST') return createTemplate(core, ctx);
      if (method === 'DELETE') return deleteTemplates(core, ctx);
    }
    if (edge === undefined) throw unknownObject(id, method);
    throw unknownPath(ctx.req.pathname);
  }
  const n = core.numberOf(id);
  if (n) {
    if (edge === undefined && method === 'GET') return getPhone(core, ctx, n);
    if (edge === undefined && method === 'POST') return postPhone(core, ctx, n);
    if (method === 'POST') {
      if (edge === 'smb_app_data') return smbAppData(core, ctx, n);
      if (edge === 'register') return register(core, ctx, n);
      if (edge === 'deregister') return deregister(core, ctx, n);
    }
    if (edge === undefined) throw unknownObject(id, method);
    throw unknownPath(ctx.req.pathname);
  }
  const t = core.templateOf(id);
  if (t) {
    if (edge === undefined && method === 'GET') return getTemplateNode(core, ctx, t);
    if (edge === undefined && method === 'POST') return editTemplate(core, ctx, t);
    if (edge === undefined) throw unknownObject(id, method);
    throw unknownPath(ctx.req.pathname);
  }
  const m = mediaOf(core, id);
  if (m) {
    if (edge === undefined && method === 'GET') return getMedia(core, ctx, m);
    if (edge === undefined && method === 'DELETE') return deleteMedia(core, ctx, m);
    if (edge === undefined) throw unknownObject(id, method);
    throw unknownPath(ctx.req.pathname);
  }
  // unknown ids still need a valid token first, like Graph
  core.authenticate(ctx, 'allowed');
  throw unknownObject(id, method);
}
