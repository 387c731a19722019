import type { ErrorData } from '../../errors/lab-error.js';

/**
 * Error identities of the Docker runtime. Shaped like src/errors/catalog.ts entries (the lead may move them
 * there); codes are permanent. All are failures of a real part: exit 3.
 */
export const DockerErrors = {
  DockerUnavailable: { code: 'CHAOSLAB_DOCKER_UNAVAILABLE', kind: 'part', title: 'No Docker engine answers.' },
  DockerFailed: { code: 'CHAOSLAB_DOCKER_FAILED', kind: 'part', title: 'The Docker engine refused a request.' },
  ImageMissing: { code: 'CHAOSLAB_IMAGE_MISSING', kind: 'part', title: 'A chaoslab image is missing.' },
  ImageBuildFailed: { code: 'CHAOSLAB_IMAGE_BUILD_FAILED', kind: 'part', title: 'An image build failed.' },
} as const satisfies Record<string, ErrorData>;
