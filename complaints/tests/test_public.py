"""The public side: file a complaint without login, keep the code, follow it to the reply."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dibao.models import AuditRecord
from complaints.models import Complaint, ComplaintAttachment, ComplaintState
from complaints.tests.conftest import PUBLIC_DATA

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def _submit(client, data=None, files=None, **extra):
    payload = dict(data or PUBLIC_DATA)
    if files:
        payload["attachments"] = files
    return client.post(reverse("complaints_public:complaint"), payload, **extra)


def _status(client, code, last4=""):
    return client.post(reverse("complaints_public:status"), {"code": code, "phone_last4": last4})


def test_form_page_opens_without_login(client, regions):
    response = client.get(reverse("complaints_public:complaint"))
    assert response.status_code == 200
    assert "农村低保投诉举报" in response.content.decode()


def test_public_complaint_to_reply_end_to_end(client, client_for, users, regions):
    response = _submit(client, files=[SimpleUploadedFile("photo.jpg", JPEG, "image/jpeg"),
                                      SimpleUploadedFile("证明.pdf", PDF, "application/pdf")])
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    code = complaint.tracking_code
    assert len(code) == 12 and code in response.content.decode()
    assert "请抄写或截图保存此查询码" in response.content.decode()
    assert complaint.owner_region_id == "220102" and complaint.region_id == "220102"
    assert complaint.channel == "online" and complaint.attachments.count() == 2

    # status page: the code alone is not enough for a real-name complaint
    assert "查询码或手机号后四位不正确" in _status(client, code).content.decode()
    page = _status(client, code, "5678").content.decode()
    assert "已受理" in page

    county = client_for(users["reviewer"])
    r = county.post(reverse("complaints:complaint_action", args=[complaint.pk, "assign"]),
                    {"region": "220102001", "working_days": "15"})
    assert r.status_code == 302
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.ASSIGNED and complaint.deadline is not None

    township = client_for(users["caseworker_a"])
    detail = township.get(reverse("complaints:complaint_detail", args=[complaint.pk])).content.decode()
    assert "13912345678" not in detail and "张三" not in detail  # the assignee verifies, the identity stays masked
    township.post(reverse("complaints:complaint_action", args=[complaint.pk, "verify"]),
                  {"text": "经入户核查，该户名下有轿车一辆。"})
    # the township cannot answer in the county's name
    township.post(reverse("complaints:complaint_action", args=[complaint.pk, "reply"]), {"text": "x"})
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.VERIFYING and complaint.reply == ""

    county.post(reverse("complaints:complaint_action", args=[complaint.pk, "reply"]),
                {"text": "经核实，该户已停发低保金并追回违规资金。"})
    county.post(reverse("complaints:complaint_action", args=[complaint.pk, "close"]))
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.CLOSED and complaint.closed_on

    page = _status(client, code.lower(), "5678").content.decode()
    assert "已办结" in page and "经核实，该户已停发低保金并追回违规资金。" in page
    assert "经入户核查" not in page  # internal verification notes stay internal

    actions = list(AuditRecord.objects.filter(object_type="complaint", object_id=str(complaint.pk))
                   .values_list("action", flat=True))
    assert actions == ["complaint.submit_public", "complaint.assign", "complaint.verify", "complaint.reply",
                       "complaint.close"]
    assert not AuditRecord.objects.filter(after__icontains="13912345678").exists()


def test_anonymous_complaint_needs_only_the_code(client, regions):
    data = dict(PUBLIC_DATA, anonymous="on", complainant_name="", complainant_phone="")
    _submit(client, data)
    complaint = Complaint.objects.get()
    assert complaint.anonymous and complaint.complainant_phone == ""
    assert "已受理" in _status(client, complaint.tracking_code).content.decode()


def test_real_name_requires_name_and_phone(client, regions):
    response = _submit(client, dict(PUBLIC_DATA, complainant_phone=""))
    assert response.status_code == 400
    assert "实名反映请填写姓名和联系电话" in response.content.decode()
    response = _submit(client, dict(PUBLIC_DATA, complainant_phone="12345"))
    assert "联系电话格式不正确" in response.content.decode()
    assert not Complaint.objects.exists()


def test_unknown_code_and_wrong_digits_get_the_same_message(client, regions):
    _submit(client)
    code = Complaint.objects.get().tracking_code
    wrong = _status(client, code, "0000").content.decode()
    unknown = _status(client, "ABCDEFGHJKLM", "5678").content.decode()
    assert "查询码或手机号后四位不正确" in wrong and "查询码或手机号后四位不正确" in unknown
    assert "已受理" not in wrong


def test_exe_disguised_as_jpg_is_rejected_and_nothing_written(client, regions):
    response = _submit(client, files=[SimpleUploadedFile("photo.jpg", EXE, "image/jpeg")])
    assert response.status_code == 400
    assert "不是 JPG、PNG 图片或 PDF 文件" in response.content.decode()
    assert not Complaint.objects.exists() and not ComplaintAttachment.objects.exists()
    assert not AuditRecord.objects.exists()


def test_attachment_over_5_mb_is_rejected(client, regions):
    big = JPEG + b"\x00" * (5 * 1024 * 1024)
    response = _submit(client, files=[SimpleUploadedFile("big.jpg", big, "image/jpeg")])
    assert response.status_code == 400
    assert "超过 5 MB 上限" in response.content.decode()
    assert not Complaint.objects.exists()


def test_more_than_three_attachments_rejected(client, regions):
    files = [SimpleUploadedFile(f"p{i}.jpg", JPEG, "image/jpeg") for i in range(4)]
    response = _submit(client, files=files)
    assert "最多上传 3 个附件" in response.content.decode()
    assert not Complaint.objects.exists()


def test_overlong_text_and_bad_region_rejected(client, regions):
    response = _submit(client, dict(PUBLIC_DATA, content="很" * 5001))
    assert "反映内容不能超过 5000 字" in response.content.decode()
    response = _submit(client, dict(PUBLIC_DATA, subject_region="220102"))
    assert "请选择到正确的层级" in response.content.decode()
    response = _submit(client, dict(PUBLIC_DATA, subject_region="999999999"))
    assert "区划代码 999999999 不存在" in response.content.decode()
    assert not Complaint.objects.exists()


def test_sixth_post_in_an_hour_gets_429(client, regions):
    for _ in range(5):
        assert _submit(client).status_code == 200
    response = _submit(client)
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode()
    assert Complaint.objects.count() == 5
    # another address is not affected
    assert _submit(client, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_tracking_codes_are_unique_and_unguessable(client, regions):
    from complaints import services
    codes = {services.new_tracking_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 12 and set(c) <= set(services.TRACKING_ALPHABET) for c in codes)


def test_public_hotlines_page_lists_by_region(client, hotline):
    page = client.get(reverse("complaints_public:hotlines")).content.decode()
    assert "南关区民政局" in page and "0431-88712347" in page and "吉林省长春市南关区" in page


def test_public_region_options(client, regions):
    page = client.get(reverse("complaints_public:regions"), {"parent": "220102"}).content.decode()
    assert "南岭街道" in page and "新发街道" not in page


def test_attachment_download_is_scoped(client, client_for, users, regions):
    _submit(client, files=[SimpleUploadedFile("photo.jpg", JPEG, "image/jpeg")])
    attachment = ComplaintAttachment.objects.get()
    url = reverse("complaints:attachment", args=[attachment.pk])
    ok = client_for(users["reviewer"]).get(url)
    assert ok.status_code == 200 and b"".join(ok.streaming_content).startswith(b"\xff\xd8\xff")
    assert client_for(users["reviewer_other"]).get(url).status_code == 404
    assert client_for(users["caseworker_a"]).get(url).status_code == 404  # not assigned to the township
