import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRegistryEvent, parseRegistryEvents } from '../../../src/events/imagePushed.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8'));

const REGISTRY =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso';
const DIGEST = 'sha256:3e1f9a5d2c7b4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f';

describe('parseRegistryEvent', () => {
  it('parses the Event Grid ImagePushed fixture', () => {
    const [e] = parseRegistryEvents(fixture('acr-image-pushed.eventgrid.json'));
    expect(e).toEqual({
      kind: 'imagePushed',
      id: '2f6a1c0e-6b1e-4c41-9c55-0f1e7b8d3a01',
      topic: REGISTRY,
      registryLoginServer: 'contoso.azurecr.io',
      repository: 'web',
      tag: '1.4.0',
      digest: DIGEST,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      eventTime: '2026-11-21T10:00:00.123Z',
      schema: 'eventGrid',
    });
  });

  it('parses the CloudEvents fixture to the same result', () => {
    const e = parseRegistryEvent(fixture('acr-image-pushed.cloudevents.json'));
    expect(e).toMatchObject({
      kind: 'imagePushed',
      topic: REGISTRY,
      tag: '1.4.0',
      digest: DIGEST,
      repository: 'web',
      registryLoginServer: 'contoso.azurecr.io',
      eventTime: '2026-11-21T10:00:00.123Z',
      schema: 'cloudEvents',
    });
  });

  it('ignores ImageDeleted and the validation event with a reason', () => {
    expect(parseRegistryEvents(fixture('acr-image-deleted.eventgrid.json'))).toEqual([
      {
        kind: 'ignored',
        reason: 'event type Microsoft.ContainerRegistry.ImageDeleted is not handled',
        id: '5d9e0a7b-1c2d-4e3f-8a9b-0c1d2e3f4a02',
        eventType: 'Microsoft.ContainerRegistry.ImageDeleted',
      },
    ]);
    const [v] = parseRegistryEvents(fixture('subscription-validation.eventgrid.json'));
    expect(v).toMatchObject({
      kind: 'ignored',
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
    });
  });

  it('ignores a push without a tag (pushed by digest)', () => {
    const e = structuredClone(
      fixture('acr-image-pushed.eventgrid.json') as Array<{ data: { target: { tag?: string } } }>,
    )[0]!;
    delete e.data.target.tag;
    expect(parseRegistryEvent(e)).toMatchObject({
      kind: 'ignored',
      reason: 'ImagePushed without a tag (pushed by digest)',
    });
  });

  const valid = () =>
    structuredClone((fixture('acr-image-pushed.eventgrid.json') as unknown[])[0]) as Record<
      string,
      unknown
    > & { data: Record<string, Record<string, unknown>> };

  it.each<[string, (e: ReturnType<typeof valid>) => unknown, string]>([
    ['null', () => null, 'expected an event object, got object'],
    ['a string', () => 'hello', 'expected an event object, got string'],
    ['an array', () => [], 'expected an event object, got an array'],
    ['no id', (e) => ({ ...e, id: undefined }), 'Event Grid event id: expected string'],
    ['no topic', (e) => ({ ...e, topic: 5 }), 'Event Grid event topic: expected string'],
    ['no data', (e) => ({ ...e, data: undefined }), 'ImagePushed data: expected object'],
    [
      'bad digest',
      (e) => ((e.data.target!.digest = 'sha256:xyz'), e),
      'ImagePushed data.target.digest: not a sha256 digest',
    ],
    [
      'bad repository',
      (e) => ((e.data.target!.repository = 'Web App'), e),
      'ImagePushed data.target.repository: not a repository name',
    ],
    ['no request host', (e) => ((e.data.request = {}), e), 'ImagePushed data.request.host: expected string'],
    ['bad tag', (e) => ((e.data.target!.tag = '../../etc'), e), 'ImagePushed data.target.tag: not a tag'],
    ['bad time', (e) => ({ ...e, eventTime: 'yesterday' }), 'event time "yesterday" is not a date'],
    [
      'CloudEvent without time',
      () => ({ ...(fixture('acr-image-pushed.cloudevents.json') as object), time: undefined }),
      'CloudEvent time: required',
    ],
    [
      'CloudEvent with wrong specversion',
      () => ({ ...(fixture('acr-image-pushed.cloudevents.json') as object), specversion: '0.3' }),
      'CloudEvent specversion',
    ],
  ])('reports %s as malformed', (_name, mutate, reason) => {
    const out = parseRegistryEvent(mutate(valid()));
    expect(out.kind).toBe('malformed');
    expect((out as { reason: string }).reason).toContain(reason);
  });

  it('never throws, whatever it is given', () => {
    const evil = Object.defineProperty({}, 'id', {
      get() {
        throw new Error('boom');
      },
      enumerable: true,
    });
    const inputs: unknown[] = [
      undefined,
      0,
      true,
      Symbol('x'),
      () => 1,
      new Date(),
      evil,
      { specversion: '1.0' },
      { eventType: 'x' },
      { data: { target: null } },
    ];
    for (const input of inputs) expect(['malformed', 'ignored']).toContain(parseRegistryEvent(input).kind);
    expect(parseRegistryEvent(evil)).toMatchObject({
      kind: 'malformed',
      reason: expect.stringContaining('boom'),
    });
  });
});
