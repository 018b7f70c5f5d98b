import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { phoneNumberIdOption } from '../../cli/flags.js';
import { UsageError } from '../../lib/errors.js';

interface Options {
  output?: string;
  force?: boolean;
  phoneNumberId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Download a media object (an image, audio, video or document received in webhooks) by its id',
      )
      .argument('<media-id>', 'the media id, e.g. image.id of a history or echo message')
      .option('-o, --output <file>', 'where to write it; a directory keeps the name <id>.<ext> (default: .)')
      .option('--force', 'replace the file when it exists')
      .addOption(phoneNumberIdOption('only if the media belongs to this phone number (Meta checks it)'))
      .addHelpText(
        'after',
        `
The media node gives a URL valid for 5 minutes; the bytes are fetched with the token, checked against the node's
sha256 and size in a temporary file next to the target, and only then moved into place. Media of history imports
is available for about 14 days.

Exit codes: 0 written, 1 API or download error (nothing written), 2 bad id or -o path, or the file exists
without --force (checked before any request).

Examples:
  $ wacx media download 24230790383178626
  $ wacx media download 24230790383178626 -o photos/echeveria.jpg --force
  $ wacx media download 24230790383178626 -o photos/ --json | jq -r .file`,
      );
  },
  run: (deps, mediaId: string, opts: Options) => run(mediaId, opts, deps),
});

export async function run(mediaId: string, opts: Options, deps: Deps): Promise<number> {
  if (!/^\d{1,32}$/.test(mediaId)) {
    throw new UsageError(`"${mediaId}" is not a media id (digits only).`, {
      location: '<media-id>',
      hint: 'Use the id from a webhook, e.g. messages[].image.id.',
    });
  }
  const { downloadMedia, prepareTarget } = await import('../../lib/media/download.js');
  const force = opts.force ?? false;
  const target = prepareTarget(opts.output, process.cwd(), force);
  const graph = await deps.graph();
  const r = await downloadMedia({
    graph,
    mediaId,
    target,
    force,
    output: opts.output,
    phoneNumberId: opts.phoneNumberId,
    signal: deps.signal,
  });
  if (deps.globals.json) {
    deps.io.printJson({
      id: r.id,
      mime_type: r.mimeType,
      sha256: r.sha256,
      file_size: r.fileSize,
      file: r.file,
    });
    return 0;
  }
  deps.io.out(r.file);
  deps.io.success(`Downloaded media ${r.id} (${r.mimeType}, ${r.fileSize} bytes, sha256 verified).`);
  return 0;
}
