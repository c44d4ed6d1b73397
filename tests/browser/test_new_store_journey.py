"""A new store end to end, in Chinese, from the browser alone: the administrator adds a
region and a store, one cashier by the form and three by a CSV import, invites the store's
manager and creates the till's POS key; the manager takes the invitation, chooses a
password and signs in with it; a till issues a receipt with the new key; a customer answers
on a phone; the manager reads the answer on the store's page."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import LivePortal
from tests.browser.desk_navigators import AdminNavigator, ManagerHome
from tests.browser.navigators import ShopperNavigator

pytestmark = pytest.mark.browser

REGION = "华南"
STORE = ("GZ-101", "天河路店")
MANAGER = ("tianhe.manager@browser.test", "陈静")
MANAGER_PASSWORD = "天河路店的早班从七点开始"
#: The file an administrator prepares in Excel and saves as "CSV UTF-8" (with its mark).
IMPORT_FILE = (
    "\ufeff门店编码,员工编码,姓名,岗位\r\n"
    "GZ-101,T002,黄磊,收银员\r\n"
    "GZ-101,T003,周敏,导购\r\n"
    "GZ-101,T004,吴刚,理货员\r\n"
)
COMMENT = "周敏介绍得很耐心，结账也快"


def test_an_admin_sets_up_a_new_store_that_a_customer_then_answers_for(
    live_portal: LivePortal, console_admin, open_browser, tmp_path: Path
):
    admin = AdminNavigator(open_browser("desk"), live_portal.base_url)
    admin.sign_in(*console_admin)
    admin.open_console()
    assert admin.html_lang() == "zh-CN" and admin.heading() == "管理控制台"

    # The region, then the store in it.
    admin.add_region(REGION)
    admin.add_store(*STORE, region=REGION, address="广州市天河路 208 号", store_format="超市")
    assert admin.path() == f"/admin/stores/{STORE[0]}/staff"
    assert f"门店 {STORE[0]} 已创建。" in " ".join(admin.flashes())

    # One cashier by the form, three from a file.
    admin.add_staff("T001", "林芳", "收银员")
    assert "已添加 林芳（T001）。" in admin.flashes()
    upload = tmp_path / "员工名单.csv"
    upload.write_bytes(IMPORT_FILE.encode("utf-8"))
    admin.preview_import(upload)
    assert admin.text_of("#summary").startswith("新增 3，修改 0，未变 0，有错误 0。")
    assert "尚未保存任何内容。" in admin.text_of("#summary")
    assert admin.import_outcomes() == {2: "new", 3: "new", 4: "new"}
    assert [b.text for b in admin.driver.find_elements(By.CSS_SELECTOR, "#rows .badge")] == [
        "新增"
    ] * 3
    admin.apply_import()
    assert "员工已导入：新增 3 人，修改 0 人，未变 0 人。" in admin.flashes()
    row = admin.store_row(STORE[0])
    assert REGION in row and "超市" in row and "广州市天河路 208 号" in row
    admin.follow(f"/admin/stores/{STORE[0]}/staff", landed=(By.ID, "staff"))
    staff = admin.staff_rows()
    assert sorted(staff) == ["T001", "T002", "T003", "T004"]
    assert "周敏" in staff["T003"] and "启用中" in staff["T003"]

    # The manager: invited by mail; the link comes from the outbox.
    admin.invite_manager(*MANAGER, role="店长", store_code=STORE[0], language="中文")
    assert f"邀请已发送至 {MANAGER[0]}。" in admin.flashes()
    assert admin.text_of("#user-status") == "启用中"
    admin.open_console()
    assert MANAGER[0] in admin.checklist_item("users")  # never signed in, yet
    invitation = admin.mailed_link(MANAGER[0], "invitation")

    manager = ManagerHome(open_browser("desk"), live_portal.base_url)
    manager.open(invitation, text=f"欢迎，{MANAGER[1]}")
    manager.type_into("new_password", MANAGER_PASSWORD)
    manager.type_into("confirm_password", MANAGER_PASSWORD)
    manager.submit("main form", (By.ID, "overdue-cases"))
    assert manager.path() == "/home"
    assert "密码已设置，您已登录。" in manager.flashes()
    # Signing out and in again with the chosen password: the first real sign-in.
    manager.sign_out()
    manager.sign_in(MANAGER[0], MANAGER_PASSWORD, landed=(By.ID, f"today-{STORE[0]}"))
    assert manager.path() == "/home" and "您门店的今日情况" in manager.page_text()

    # The till's key, from the checklist's "no POS key" item; shown once.
    admin.open_console()
    assert MANAGER[0] not in admin.checklist_item("users")
    assert STORE[0] in admin.checklist_item("keys")
    key = admin.create_key_from_checklist(STORE[0], "1号收银台")
    assert key.startswith("pos_"), key
    assert "请立即复制，它不会再次显示。" in admin.page_text()
    assert key in admin.text_of("#curl-example")

    # The till, with that key, prints a receipt for one of the imported staff.
    till = replace(live_portal, api_key=key)
    receipt = till.issue_receipt("GZ101-0001", staff_code="T003")
    assert receipt["survey_url"].startswith(f"{live_portal.base_url}/r/")

    # A customer scans it with a phone and answers.
    shopper = ShopperNavigator(open_browser("phone"), live_portal.base_url)
    shopper.open_receipt(receipt["survey_url"])
    assert shopper.on_survey() and shopper.heading() == "购物体验调查"
    shopper.answer(nps=10, csat=5, comment=COMMENT)
    shopper.submit()
    assert shopper.on_thanks(), shopper.page_text()
    assert shopper.validation_code()

    # The manager finds it on the store's page.
    manager.go_home()
    assert "今日 1 条回答" in manager.text_of(f"#today-{STORE[0]}")
    manager.open_store_dashboard(STORE[0])
    comments = manager.comments()
    assert len(comments) == 1 and COMMENT in comments[0] and "周敏" in comments[0], comments
