// What `db` can ask of the crypt's database service (the parser refuses anything else; completion offers them).
export const DB_VERBS = ['start', 'stop', 'restart', 'status'] as const;
