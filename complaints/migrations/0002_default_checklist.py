"""The default supervision checklist: the "7 类 22 项" the Lianyungang supervision teams used
(seed 003): 专项治理工作情况（主体责任落实、工作方案制定、动员部署、相关政策落实）、腐败和作风问题
排查及查处整改、县区低保对象档案管理、乡镇低保备案、村（居）低保长期公示、社会救助宣传月活动、
群众来电来访处理. The items are our breakdown; supervisors can edit the list in admin."""
from django.db import migrations

NAME = "农村低保专项治理督查清单（默认）"
ITEMS = [
    ("专项治理工作情况", "成立专项治理领导小组，明确第一责任人和直接责任人"),
    ("专项治理工作情况", "建立周报制、月报制、责任考核制、联席会议制等工作机制"),
    ("专项治理工作情况", "乡镇实行班子成员包点、驻村干部包村、村干部包组责任制"),
    ("专项治理工作情况", "制定并印发专项治理工作方案"),
    ("专项治理工作情况", "召开动员部署会议，邀请派驻纪检组参会"),
    ("专项治理工作情况", "低保标准按规定调整并按时足额发放"),
    ("专项治理工作情况", "重度残疾人、重病患者“单人保”政策落实到位"),
    ("专项治理工作情况", "建档立卡贫困人口符合条件的全部纳入低保"),
    ("腐败和作风问题排查及查处整改", "排查“人情保”“关系保”“错保”问题并建立台账"),
    ("腐败和作风问题排查及查处整改", "财政供养人员、村干部、经办人员近亲属享受低保情况逐一核查"),
    ("腐败和作风问题排查及查处整改", "问题线索按规定移交纪检监察机关"),
    ("腐败和作风问题排查及查处整改", "发现问题建立整改台账并对账销号"),
    ("低保对象档案管理", "县级低保对象档案一户一档、资料齐全"),
    ("低保对象档案管理", "入户调查记录有调查人和申请人双方签字"),
    ("低保对象档案管理", "审核确认手续完备、时限符合规定"),
    ("乡镇低保备案", "低保经办人员及村干部近亲属享受低保实行备案"),
    ("乡镇低保备案", "备案对象由县级100%入户核查"),
    ("村（居）低保长期公示", "村（居）务公开栏长期公示低保对象姓名、人数、金额和监督电话"),
    ("村（居）低保长期公示", "公示内容不含完整身份证号等个人隐私"),
    ("社会救助宣传月活动", "开展社会救助政策宣传，群众知晓申请渠道"),
    ("群众来电来访处理", "投诉举报电话有人接听，来电来访登记、办理、反馈及时"),
    ("群众来电来访处理", "向社会公布投诉举报电话和网络举报渠道，并开展拨打督导"),
]


def create(apps, schema_editor):
    Checklist = apps.get_model("complaints", "Checklist")
    ChecklistItem = apps.get_model("complaints", "ChecklistItem")
    checklist, _ = Checklist.objects.get_or_create(name=NAME, defaults={"is_default": True})
    if not checklist.items.exists():
        ChecklistItem.objects.bulk_create([ChecklistItem(checklist=checklist, category=c, text=t, order=i)
                                           for i, (c, t) in enumerate(ITEMS, start=1)])


def remove(apps, schema_editor):
    apps.get_model("complaints", "Checklist").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
