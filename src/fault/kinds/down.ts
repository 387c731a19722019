/** `down`: the links' proxies are disabled: new connects refused, open connections closed. */
import { z } from 'zod';
import { Selector, type FaultKind } from '../fault-kind.js';
import { disableProxies, linkClaims } from '../toxics.js';

export interface DownSpec {
  type: 'down';
  links: string[];
}

const schema = z.strictObject({
  type: z.literal('down').describe('Disable the proxies of links: connections are refused, open ones closed.'),
  links: Selector.describe('The proxied links to take down: a link name, a list, or * globs like storage-*_to_metadata.'),
});

export const down = {
  schema,
  resolve: (f, ctx) => ({ type: 'down', links: ctx.pickLinks(f.links, ['fault', 'links']) }),
  describe: (s) => `down on ${s.links.join(', ')}`,
  targets: (s) => s.links,
  claims: (s) => linkClaims(s.links),
  apply: (s, ctx) => disableProxies(ctx.toxiproxy, s.links),
} satisfies FaultKind<typeof schema, DownSpec>;
