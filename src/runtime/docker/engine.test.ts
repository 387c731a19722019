import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DockerEngine, EngineContainer } from './engine.js';

/** A container handle whose start fails as dockerd 20.10 sometimes does, and whose state says what really happened. */
function handle(running: boolean): Docker.Container {
  const err = Object.assign(new Error('(HTTP code 500) server error - OCI runtime start failed: cannot start an already running container: unknown'), { statusCode: 500 });
  return {
    id: 'c1',
    start: () => Promise.reject(err),
    inspect: () => Promise.resolve({ State: { Running: running, Paused: false, Pid: 1, ExitCode: 0, OOMKilled: false } }),
  } as unknown as Docker.Container;
}

describe('EngineContainer.start', () => {
  // No engine is contacted: the handle is fake, and DockerEngine only connects on a call.
  const engine = new DockerEngine({ dockerHost: 'unix:///nonexistent.sock' });

  it('a start the engine reported as failed but that did happen counts as started', async () => {
    await expect(new EngineContainer(engine, handle(true), 'n').start()).resolves.toBeUndefined();
  });

  it('a start that failed and left the container stopped is a Docker failure', async () => {
    await expect(new EngineContainer(engine, handle(false), 'n').start()).rejects.toMatchObject({ code: 'CHAOSLAB_DOCKER_FAILED' });
  });
});
