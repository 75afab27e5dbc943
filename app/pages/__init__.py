"""The pages of the main window, and the limits their forms share."""

REASON_MAX_LENGTH = 300  # every reason field takes this much, what the admin API keeps of one
