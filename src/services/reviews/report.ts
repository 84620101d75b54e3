/**
 * The auditor's report of a campaign, as CSV (every item, streamed) or PDF (made with
 * pdfkit): the campaign's scope and reviewers, each decision with who took it and when,
 * and the signed audit-chain checkpoint that covers it. A report of a campaign that is not
 * closed says so on its first page (and in the CSV's first line): its decisions may change.
 */
import { csvLine } from '../../domain/export-format.ts';
import type { TenantDb } from '../../store/store.ts';
import type { Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { reviewProgress, type ReviewProgress } from './campaigns.ts';
import { itemView, requireReadAll, reviewRow, reviewView, type ItemView, type ReviewRow, type ReviewView } from './model.ts';

/** Items in the PDF's decision table at most; the CSV always has every item. */
export const PDF_MAX_ITEMS = 5000;
const PAGE = 1000;

export interface ReviewReport {
  contentType: string;
  filename: string;
  body: AsyncIterable<string> | Buffer;
}

export interface CoveringCheckpoint {
  /** The newest audit event the report must be covered for. */
  throughSeq: number;
  checkpoint: { seq: number; hash: string; time: string; keyId: string; signature: string } | null;
}

/**
 * The first signed checkpoint at or after the campaign's last audit event (its close, or —
 * while it runs — the tenant's newest event); null when none has been signed since.
 */
async function coveringCheckpoint(scope: TenantDb, row: ReviewRow): Promise<CoveringCheckpoint> {
  let through: number;
  if (row.status === 'closed') {
    const last = await scope.db.selectFrom('audit_events').select('seq').where('target_type', '=', 'accessReview').where('target_id', '=', row.id).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    through = Number(last?.seq ?? row.close_audit_seq ?? 0);
  } else {
    through = Number((await scope.db.selectFrom('tenants').select('audit_seq').where('id', '=', scope.tenantId).executeTakeFirstOrThrow()).audit_seq);
  }
  const c = await scope.db.selectFrom('audit_checkpoints').selectAll().where('seq', '>=', through).orderBy('seq').limit(1).executeTakeFirst();
  return { throughSeq: through, checkpoint: c ? { seq: Number(c.seq), hash: c.hash, time: c.time, keyId: c.key_id, signature: c.signature } : null };
}

async function* itemPages(scope: TenantDb, reviewId: string, max = Infinity): AsyncIterable<ItemView[]> {
  let after = 0;
  let sent = 0;
  while (sent < max) {
    const rows = await scope.db.selectFrom('review_items').selectAll().where('review_id', '=', reviewId).where('position', '>', after).orderBy('position').limit(Math.min(PAGE, max - sent)).execute();
    if (!rows.length) return;
    after = rows[rows.length - 1]!.position;
    sent += rows.length;
    yield rows.map(itemView);
  }
}

const inProgressNote = (r: ReviewView) => `IN PROGRESS: this campaign is ${r.status}, not closed; its decisions may still change.`;

function checkpointText(c: CoveringCheckpoint): string {
  if (!c.checkpoint) return `No signed checkpoint covers audit event ${c.throughSeq} yet; the next scheduled checkpoint will (GET /api/v1/audit-checkpoints).`;
  return `Audit checkpoint seq ${c.checkpoint.seq} (covers events 1-${c.checkpoint.seq}, this campaign's through ${c.throughSeq}), hash ${c.checkpoint.hash}, signed ${c.checkpoint.time} with key ${c.checkpoint.keyId}.`;
}

const CSV_COLUMNS = ['position', 'identityId', 'identity', 'account', 'application', 'permission', 'risk', 'why', 'drift', 'sodViolation', 'orphan', 'reviewerId', 'decision', 'comment', 'validTo', 'decidedBy', 'decidedAt', 'requestId', 'remediation'];

function csvRow(i: ItemView): string {
  return csvLine([
    i.position, i.identity?.id ?? null, i.identity?.name ?? null, i.account?.name ?? null, i.application.name, i.permission?.name ?? null, i.risk, i.why.text,
    i.flags.drift ? 'yes' : 'no', i.flags.sodViolation ? 'yes' : 'no', i.flags.orphan ? 'yes' : 'no', i.reviewerId, i.decision ?? 'open', i.comment, i.validTo,
    i.decidedByName, i.decidedAt, i.requestId, i.remediation?.reason ?? i.remediation?.status ?? null,
  ]);
}

export async function reviewReport(deps: ServiceDeps, actor: Actor, id: string, format: 'csv' | 'pdf'): Promise<ReviewReport> {
  requireReadAll(actor);
  const scope = deps.store.read(actor.caller.tenantId);
  const row = await reviewRow(scope, id);
  const review = reviewView(row);
  const covering = await coveringCheckpoint(scope, row);
  const filename = `access-review-${review.number}.${format}`;
  if (format === 'csv') {
    async function* chunks(): AsyncIterable<string> {
      // Comment lines first (status, checkpoint), then the header and one line per item.
      yield `# ${review.status === 'closed' ? `Access review "${review.name}", closed ${review.closedAt} (${review.closeReason})` : inProgressNote(review)}\r\n`;
      yield `# ${checkpointText(covering)}\r\n`;
      yield csvLine(CSV_COLUMNS);
      for await (const page of itemPages(scope, id)) yield page.map(csvRow).join('');
    }
    return { contentType: 'text/csv; charset=utf-8', filename, body: chunks() };
  }
  const progress = await reviewProgress(deps, actor, id);
  const items: ItemView[] = [];
  for await (const page of itemPages(scope, id, PDF_MAX_ITEMS)) items.push(...page);
  return { contentType: 'application/pdf', filename, body: await renderPdf(review, progress, covering, items) };
}

async function renderPdf(review: ReviewView, progress: ReviewProgress, covering: CoveringCheckpoint, items: ItemView[]): Promise<Buffer> {
  // pdfkit (with its fonts) is loaded by the first PDF asked for, not by every server start.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Access review ${review.name}`, Author: 'Grantory', CreationDate: new Date() } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  if (review.status !== 'closed') doc.fillColor('#b00020').fontSize(14).text(inProgressNote(review)).moveDown().fillColor('black');
  doc.fontSize(18).text(`Access review report: ${review.name}`).moveDown(0.5);
  doc.fontSize(10);
  const line = (label: string, value: string) => doc.font('Helvetica-Bold').text(`${label}: `, { continued: true }).font('Helvetica').text(value);
  line('Campaign', `#${review.number} (${review.id})`);
  line('Status', review.status + (review.closeReason ? ` (${review.closeReason})` : ''));
  line('Scope', `applications: ${review.scope.applicationIds?.join(', ') ?? 'all'}; organization units: ${review.scope.orgUnitIds?.join(', ') ?? 'all'}; minimum risk: ${review.scope.minRisk ?? 'any'}`);
  line('Space', review.space === 'provisioned' ? 'provisioned (what applications really hold)' : 'assigned');
  line('Reviewers', `${review.reviewer.type}${review.reviewer.id ? ` ${review.reviewer.id}` : ''}; fallback ${review.fallbackReviewerId ?? 'none'}`);
  line('Started', `${review.startedAt ?? 'not started'} (snapshot at revision ${review.startRevision ?? '-'})`);
  line('Due', review.dueAt ?? '-');
  line('Closed', review.closedAt ?? '-');
  line('Default decision at the deadline', review.defaultDecision);
  line('Items', `${progress.total}: ${progress.decided} decided (certify ${progress.decisions.certify}, revoke ${progress.decisions.revoke}, modify ${progress.decisions.modify}), ${progress.open} open`);
  line('Audit chain', checkpointText(covering));
  doc.moveDown().font('Helvetica-Bold').fontSize(12).text('Progress by reviewer').font('Helvetica').fontSize(9);
  for (const r of progress.reviewers) doc.text(`${r.name ?? r.reviewerId ?? '(unassigned)'}: ${r.decided} decided, ${r.open} open of ${r.total}`);
  doc.moveDown().font('Helvetica-Bold').fontSize(12).text('Decisions').font('Helvetica').fontSize(8);
  if (progress.total > items.length) doc.text(`The first ${items.length} of ${progress.total} items; the CSV report lists every item.`).moveDown(0.5);
  for (const i of items) {
    const flags = [i.flags.drift ? 'drift' : '', i.flags.sodViolation ? 'SoD violation' : '', i.flags.orphan ? 'orphan' : ''].filter(Boolean).join(', ');
    doc
      .font('Helvetica-Bold')
      .text(`${i.position}. ${i.identity?.name ?? `account ${i.account?.name ?? '?'}`} - ${i.application.name} / ${i.permission?.name ?? '(account)'} [${i.risk}]${flags ? ` (${flags})` : ''}`)
      .font('Helvetica')
      .text(`Why: ${i.why.text}`)
      .text(i.decision ? `Decision: ${i.decision}${i.validTo ? ` until ${i.validTo}` : ''} by ${i.decidedByName ?? i.decidedBy ?? '?'} at ${i.decidedAt}${i.comment ? ` - "${i.comment}"` : ''}${i.requestId ? `; access request ${i.requestId}` : ''}${i.remediation?.status === 'manual' ? `; by hand: ${i.remediation.reason ?? ''}` : ''}` : 'Decision: open')
      .moveDown(0.3);
  }
  doc.end();
  return done;
}
