"""Who acts: commons groups, their tokens, members who sign in, the admin log."""
