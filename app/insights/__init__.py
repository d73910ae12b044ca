"""Learning from conversations: ratings, knowledge gaps and activity for owners."""
