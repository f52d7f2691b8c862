-- A publisher's claim on a target is fenced by a random id, not by its lease instant: the
-- owning publisher renews `lease_until` (a heartbeat) while a publish runs, so the lease can be
-- short (a dead publisher's targets are taken over in seconds) without the renewal changing
-- the value its writes are checked against. A write carries the claim id it was given; a
-- target claimed again by someone else has another id, and the stale write changes nothing.
ALTER TABLE post_targets ADD COLUMN claim_id uuid;
