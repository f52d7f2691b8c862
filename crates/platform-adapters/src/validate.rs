//! Checks a post against a platform's capabilities before it is accepted, so a post that the
//! platform would refuse is refused at once, with a reason, instead of failing at its due time.
