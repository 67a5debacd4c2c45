/**
 * Real exporter datagrams for the benchmarks: a generated capture (the flow lab's
 * make-scenario.py) played through softflowd (NetFlow v5, v9, IPFIX) or pmacctd's sfprobe
 * (sFlow v5, 1 in 1), and the datagrams they send kept in order. Attack traffic from many
 * sources gives one flow per packet, so softflowd fills every datagram (about 30 records), the
 * shape a collector sees during a flood; sfprobe sends one flow sample per packet.
 */
import { dirname } from 'node:path';
import { runPmacctdSfprobe } from '../../test/lab/pmacctd-sfprobe.js';
import { makeScenario, runSoftflowd, type SoftflowdVersion } from '../../test/lab/scenario.js';
import { collectDatagrams } from '../../test/lab/udp-sink.js';

export interface BenchCapture {
  pcapPath: string;
  /** Distinct flows in the capture, filler included. */
  flows: number;
}

/**
 * A capture of about `flows` distinct flows (SYN flood and UDP flood, random sources and
 * ports), packet times just before now as exporters expect.
 */
export async function floodCapture(dir: string, flows: number, seed = 1): Promise<BenchCapture> {
  const seconds = 2;
  const syn = Math.round((flows * 0.6) / seconds);
  const udp = Math.round((flows * 0.4) / seconds);
  const { pcapPath, truth } = await makeScenario(
    {
      seed,
      startEpoch: Math.floor(Date.now() / 1000) - 60,
      durationSeconds: seconds,
      streams: [
        {
          kind: 'syn-flood',
          dst: '203.0.113.20',
          dstPort: 80,
          sources: Math.max(1, syn),
          pps: Math.max(1, syn),
        },
        {
          kind: 'udp-flood',
          dst: '203.0.113.50',
          dstPorts: [],
          sources: Math.max(1, udp),
          pps: Math.max(1, udp),
          size: 512,
        },
      ],
    },
    dir,
  );
  return { pcapPath, flows: truth.flows };
}

/**
 * Plays the capture through softflowd and returns every datagram it sent, in order. Throws
 * when any went missing between softflowd and the sink: a replay built on a partial capture
 * would carry data sets whose template was lost.
 */
export async function softflowdDatagrams(
  capture: BenchCapture,
  version: SoftflowdVersion,
): Promise<Buffer[]> {
  const sink = await collectDatagrams(0);
  try {
    const result = await runSoftflowd({
      pcapPath: capture.pcapPath,
      version,
      port: sink.port,
      maxFlows: Math.max(65_536, Math.ceil(capture.flows * 1.2)),
    });
    const sent = result.exported?.datagrams;
    if (result.exitCode !== 0 || sent === undefined) {
      throw new Error(`softflowd -v ${version} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    }
    const received = await sink.settle({ atLeast: sent, quietMs: 300, timeoutMs: 20_000 });
    if (received.length !== sent) {
      throw new Error(
        `softflowd -v ${version} sent ${sent} datagrams but ${received.length} arrived; ` +
          'the capture burst overflowed the sink (raise net.core.rmem_max or use fewer --flows)',
      );
    }
    return received.map((d) => d.data);
  } finally {
    await sink.close();
  }
}

/** sFlow datagram sequence number: after the agent address, whose length its type gives. */
function sflowSequence(d: Buffer): number {
  const type = d.readUInt32BE(4);
  return d.readUInt32BE(8 + (type === 1 ? 4 : type === 2 ? 16 : 0) + 4);
}

/**
 * Plays the capture through pmacctd's sfprobe (every packet sampled) and returns every sFlow
 * datagram it sent, in order. Throws when pmacctd did not play the whole file or when a
 * datagram went missing on the way (the sequence numbers must run 1..N).
 */
export async function sfprobeDatagrams(capture: BenchCapture): Promise<Buffer[]> {
  const sink = await collectDatagrams(0);
  try {
    const run = await runPmacctdSfprobe({
      pcapPath: capture.pcapPath,
      dir: dirname(capture.pcapPath),
      port: sink.port,
    });
    if (!run.completed) throw new Error(`pmacctd (sfprobe) exited ${run.exitCode}: ${run.stderr.trim()}`);
    // pmacctd flushes its plugin as it exits; wait for the stragglers.
    const received = (await sink.settle({ atLeast: 1, quietMs: 1000, timeoutMs: 20_000 })).map((d) => d.data);
    received.forEach((d, i) => {
      if (sflowSequence(d) !== i + 1) {
        throw new Error(
          `pmacctd's sFlow datagram ${i + 1} arrived with sequence number ${sflowSequence(d)}: datagrams were lost ` +
            'between pmacctd and the sink (raise net.core.rmem_max or use fewer --flows)',
        );
      }
    });
    return received;
  } finally {
    await sink.close();
  }
}
