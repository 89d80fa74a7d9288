"""Directory groups mapped to team memberships (and admin permissions), kept by an
administrator; the event log takes a staff member's membership events, which have no
client (a constraint allows an empty client for those only)."""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('cases', '0008_event_database_time'),
        ('criteria', '0002_checklist_version_1'),
        ('transfers', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DirectoryGroupMapping',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('directory_group', models.CharField(help_text='The group as the identity service sends it in the groups claim (a name, or an object id in Azure AD); letter case does not matter.', max_length=200, verbose_name='directory group')),
                ('role', models.CharField(blank=True, choices=[('caseworker', 'Caseworker'), ('receiving_worker', 'Receiving worker'), ('front_desk', 'Front desk'), ('supervisor', 'Supervisor')], max_length=20, verbose_name='role')),
            ],
            options={
                'verbose_name': 'directory group mapping',
                'verbose_name_plural': 'directory group mappings',
                'ordering': ['directory_group', 'team', 'role'],
            },
        ),
        migrations.AlterField(
            model_name='event',
            name='client',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='cases.client'),
        ),
        migrations.AlterField(
            model_name='event',
            name='subject',
            field=models.CharField(choices=[('client', 'client'), ('case', 'case'), ('review', 'review'), ('transfer', 'transfer'), ('booking', 'handover booking'), ('membership', 'team membership')], max_length=20, verbose_name='subject'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=models.Q(('client__isnull', False), ('subject', 'membership'), _connector='OR'), name='event_about_a_client_unless_membership'),
        ),
        migrations.AddField(
            model_name='directorygroupmapping',
            name='admin_group',
            field=models.ForeignKey(blank=True, help_text="Instead of a team: the members may use the admin with this group's permissions.", null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='auth.group', verbose_name='admin permissions'),
        ),
        migrations.AddField(
            model_name='directorygroupmapping',
            name='team',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='directory_groups', to='cases.team', verbose_name='team'),
        ),
        migrations.AddConstraint(
            model_name='directorygroupmapping',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('admin_group__isnull', True), ('team__isnull', False), models.Q(('role', ''), _negated=True)), models.Q(('admin_group__isnull', False), ('role', ''), ('team__isnull', True)), _connector='OR'), name='directory_group_gives_a_membership_or_admin', violation_error_message='Choose a team and a role, or admin permissions, not both.'),
        ),
        migrations.AddConstraint(
            model_name='directorygroupmapping',
            constraint=models.CheckConstraint(condition=models.Q(('directory_group', django.db.models.functions.text.Lower('directory_group')), models.Q(('directory_group', ''), _negated=True)), name='directory_group_lower_case'),
        ),
        migrations.AddConstraint(
            model_name='directorygroupmapping',
            constraint=models.UniqueConstraint(condition=models.Q(('team__isnull', False)), fields=('directory_group', 'team', 'role'), name='unique_directory_group_membership', violation_error_message='This group already gives this role in this team.'),
        ),
        migrations.AddConstraint(
            model_name='directorygroupmapping',
            constraint=models.UniqueConstraint(condition=models.Q(('admin_group__isnull', False)), fields=('directory_group', 'admin_group'), name='unique_directory_group_admin', violation_error_message='This group already gives these admin permissions.'),
        ),
    ]
