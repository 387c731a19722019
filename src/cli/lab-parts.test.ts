import { describe, expect, it } from 'vitest';
import { partsOptions } from './lab-parts.js';

describe('partsOptions', () => {
  it('passes PATH always and a binary only when the environment names one', () => {
    expect(partsOptions({ path: '/bin', toxiproxyBinary: undefined, prometheusBinary: undefined })).toEqual({ envPath: '/bin' });
    expect(partsOptions({ path: '/bin', toxiproxyBinary: '/t', prometheusBinary: '' })).toEqual({ envPath: '/bin', toxiproxyBinary: '/t' });
    expect(partsOptions({ path: '/bin', toxiproxyBinary: '/t', prometheusBinary: '/p' })).toEqual({ envPath: '/bin', toxiproxyBinary: '/t', prometheusBinary: '/p' });
  });
});
