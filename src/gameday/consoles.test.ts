import { describe, expect, it } from 'vitest';
import { parseFacilitatorRequest, parseTeamRequest } from './consoles.js';
import { facilitatorPage, participantsPage } from './pages.js';
import { PARTICIPANT_RELABEL } from './server.js';

describe('console requests', () => {
  it('takes the team actions it knows, with their fields, and says what is wrong otherwise', () => {
    expect(parseTeamRequest({ kind: 'declare', text: 'p99 high' })).toEqual({ kind: 'declare', text: 'p99 high' });
    expect(parseTeamRequest({ kind: 'mitigate', name: 'timeout-and-fallback' })).toEqual({ kind: 'mitigate', name: 'timeout-and-fallback' });
    expect(parseTeamRequest({ kind: 'hint', extra: 1 })).toEqual({ kind: 'hint' });
    expect(parseTeamRequest({ kind: 'declare' })).toBe('declare needs "text"');
    expect(parseTeamRequest({ kind: 'curveball', step: 'x' })).toMatch(/"kind" must be one of/);
    expect(parseTeamRequest(null)).toMatch(/"kind" must be one of/);
  });

  it('keeps the facilitator controls apart from the team actions', () => {
    expect(parseFacilitatorRequest({ op: 'curveball', step: 'b' })).toEqual({ op: 'curveball', step: 'b' });
    expect(parseFacilitatorRequest({ op: 'end' })).toEqual({ op: 'end' });
    expect(parseFacilitatorRequest({ kind: 'declare', text: 'x' })).toMatch(/"op" must be one of/);
  });
});

describe('the participants see no fault', () => {
  it('keeps only the nodes and the load client metrics in their Prometheus', () => {
    const re = new RegExp(`^(?:${PARTICIPANT_RELABEL[0]!.regex})$`);
    expect(re.test('lab;chaoslab_client_requests_total')).toBe(true);
    expect(re.test('node;hello_backend_calls_total')).toBe(true);
    for (const hidden of ['lab;chaoslab_fault_active', 'lab;chaoslab_phase', 'lab;chaoslab_load_target_rate', 'toxiproxy;toxiproxy_proxy_received_bytes_total']) expect(re.test(hidden)).toBe(false);
  });

  it('has no fault words in the participants page, and the facilitator page shows the hidden timeline', () => {
    expect(participantsPage()).not.toMatch(/\bfault|toxiproxy|curveball|\bdeal/i);
    expect(facilitatorPage()).toContain('Hidden timeline');
  });
});
