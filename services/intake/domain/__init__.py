"""Pure rules of intake: what a well-formed submission is and the message it proposes."""
