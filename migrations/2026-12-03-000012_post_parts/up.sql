-- Threads and first comments (issue 13, part 3).
--
-- A post's own text stays its first part (position 0, on `post_targets`); `post_parts` holds
-- what follows it, written with the post and never changed: the thread's next parts
-- (positions 1..n, kind `part`) and, last, an optional first comment (kind `first_comment`).
CREATE TABLE post_parts (
    post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position integer NOT NULL CHECK (position >= 1),
    kind text NOT NULL CHECK (kind IN ('part', 'first_comment')),
    text text NOT NULL,
    media_ids uuid[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (post_id, position)
);

-- Which positions of a target's chain exist on the platform (0: the post itself). A row is
-- written in the same transaction as the successful attempt that made it, so a retry
-- continues from the first position without a row and never posts one twice.
CREATE TABLE post_target_parts (
    target_id uuid NOT NULL REFERENCES post_targets (id) ON DELETE CASCADE,
    position integer NOT NULL CHECK (position >= 0),
    platform_post_id text NOT NULL,
    url text,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_id, position)
);

-- How many rows of `post_parts` follow the target's post: 0 for a single post, so the
-- publisher reads nothing more for it.
ALTER TABLE post_targets ADD COLUMN follow_ups integer NOT NULL DEFAULT 0 CHECK (follow_ups >= 0);

-- Which position of the chain an attempt published (0: the post itself).
ALTER TABLE post_attempts ADD COLUMN part integer NOT NULL DEFAULT 0;
