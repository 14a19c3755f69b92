import { abuseCorpus } from './abuse-corpus.ts';
import { nodeEdge } from './edges.ts';

abuseCorpus('abuse', nodeEdge, true);
