import { describe, expect, it } from 'vitest';
import { MARKER_PROTOCOL } from '../../bench/ingest/marker.js';
import { nfacctdConfig, parseStoredFlows } from '../../bench/ingest/nfacctd.js';

describe('reading what nfacctd stored', () => {
  it('sums the FLOWS column over every purge, markers apart', () => {
    const csv = [
      'PROTOCOL,PACKETS,FLOWS,BYTES',
      'udp,3000,300,192000',
      'tcp,2820,2820,112800',
      'tcp,3132,3132,125280',
      `${MARKER_PROTOCOL},2976,2976,190464`,
      'udp,10,10,640',
      '',
    ].join('\n');
    expect(parseStoredFlows(csv)).toEqual({ records: 300 + 2820 + 3132 + 10, markers: 2976 });
  });

  it('finds the columns by name and skips lines it cannot read', () => {
    const csv = ['FLOWS,PROTOCOL,PACKETS', '5,tcp,9', 'garbage', ',udp,3', '7,udp,1'].join('\n');
    expect(parseStoredFlows(csv)).toEqual({ records: 12, markers: 0 });
    expect(parseStoredFlows('')).toEqual({ records: 0, markers: 0 });
  });

  it('configures the print plugin to count records per protocol every second', () => {
    const conf = nfacctdConfig(20555, 33554432, '/tmp/x/out.csv');
    expect(conf).toContain('nfacctd_port: 20555');
    expect(conf).toContain('nfacctd_pipe_size: 33554432');
    expect(conf).toContain('aggregate[bench]: proto, flows');
    expect(conf).toContain('print_output_file[bench]: /tmp/x/out.csv');
    expect(conf).toContain('print_output_file_append[bench]: true');
    expect(conf).toContain('print_refresh_time[bench]: 1');
    expect(conf).toContain('plugin_pipe_size: 102400000');
    expect(conf).toContain('plugin_buffer_size: 102400');
  });
});
