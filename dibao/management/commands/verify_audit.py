from django.core.management.base import BaseCommand, CommandError

from dibao.audit import verify_trail


class Command(BaseCommand):
    help = ("Verify the audit trail's hash chain end to end and compare its head with the latest signed "
            "checkpoint (AUDIT_CHECKPOINT_DIR); on success append a new checkpoint. Non-zero exit naming "
            "what failed.")

    def handle(self, *args, **opts):
        report = verify_trail()
        chain, previous = report.chain, report.compared_with
        out = self.stdout.write
        out(f"checked {chain.checked} records, head #{chain.head_id} hash {chain.head_hash}")
        if chain.legacy:
            out(f"  {chain.legacy} records before the HMAC cut-over (#{chain.cutover_id}) checked with plain "
                f"SHA-256 only; the rest with HMAC-SHA256 (AUDIT_HMAC_KEY)")
        else:
            out("  every record checked with HMAC-SHA256 (AUDIT_HMAC_KEY)")
        if previous:
            out(f"  compared with checkpoint of {previous.at} in {report.path}: "
                f"head #{previous.record_id} hash {previous.hash}, {previous.records} records")
        else:
            out(f"  no earlier checkpoint in {report.path}: deletion of the newest records can be detected "
                f"only from this run on")
        if not report.ok:
            raise CommandError("; ".join(report.problems))
        out(f"  checkpoint written: head #{report.written.record_id} at {report.written.at}")
        out(f"audit chain intact: {chain.checked} records verified")
