import { abuseCorpus } from './abuse-corpus.ts';
import { workersEdge } from './edges.ts';

/**
 * The edge's half of the corpus against the Workers edge in workerd (the agent's was hit by
 * abuse.test.ts). Oversized bodies and headers are refused by the Worker before any object reads
 * them (edge/workers/request-limits.ts): an object answering before reading a body gets reset by
 * workerd, which would knock the device's tunnel offline.
 */
abuseCorpus('abuse-workers', workersEdge, false);
