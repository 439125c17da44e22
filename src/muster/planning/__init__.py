"""What-if and allocation (R6, R3): a draft policy simulated against today's data, and plans
of who should be issued a personal weapon."""
