-- token-refresher's scheduler claims due accounts under a lease: an account claimed by an
-- instance that died becomes claimable again when the lease runs out.
ALTER TABLE social_accounts ADD COLUMN refresh_claimed_until timestamptz;

-- Accounts connected before scheduling existed: refresh at 80 % of their remaining lifetime.
UPDATE social_accounts
SET next_refresh_at = now() + (token_expires_at - now()) * 0.8
WHERE token_expires_at IS NOT NULL
  AND next_refresh_at IS NULL
  AND status NOT IN ('disconnecting', 'disconnected', 'needs_reauth');
