-- The engagement fetcher's claim (issue 14): a pass takes whole accounts' due reads, so an
-- account is read in full platform batches instead of a few posts a request. The claim walks
-- due reads by minute, then account (a skip scan: one index descent per account), and takes
-- each account's reads of that minute in due order. The minute only orders a backlog: which
-- reads are due is still decided by metrics_due_at and the batch window. date_bin with a fixed
-- origin is immutable, so it can be indexed; the claim repeats this expression exactly.
CREATE INDEX post_targets_metrics_claim_idx ON post_targets
    (date_bin('1 minute', metrics_due_at, TIMESTAMPTZ 'epoch'), account_id, metrics_due_at)
    WHERE metrics_due_at IS NOT NULL;
